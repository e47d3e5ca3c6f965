"""The codes the payment page draws itself (issue 17): the convenience-store barcode, whose SVG
must carry exactly the library's Code 128 modules and no inline style (the CSP forbids it)."""
import re

import barcode

from intrasa.barcodes import QUIET_ZONE, code128_svg
from intrasa.qr import qr_png


def modules_drawn(svg: str, module_px: int) -> str:
    bars = [(int(x), int(w)) for x, w in re.findall(r'<rect x="(\d+)" y="0" width="(\d+)"', svg)]
    total = int(re.search(r'data-modules="(\d+)"', svg).group(1))
    modules = ["0"] * total
    for x, width in bars:
        start = x // module_px - QUIET_ZONE
        for index in range(start, start + width // module_px):
            modules[index] = "1"
    return "".join(modules)


def test_barcode_draws_the_code128_modules_of_the_payment_code():
    code = "8834012345678901"
    svg = code128_svg(code, label="Barcode 8834012345678901", module_px=2)
    assert modules_drawn(svg, 2) == barcode.get("code128", code).build()[0]
    assert "style=" not in svg and 'aria-label="Barcode 8834012345678901"' in svg and 'role="img"' in svg


def test_barcode_label_is_escaped():
    assert "<b>" not in code128_svg("123", label="<b>x</b>")


def test_qr_png_is_a_png():
    assert qr_png("00020101021226").startswith(b"\x89PNG\r\n\x1a\n")


def test_payment_steps_follow_the_readers_language_and_point_up():
    """The steps are listed under the number they talk about: they say "above", and they are
    translated when shown (not frozen in the language active when the module was imported)."""
    from django.utils import translation

    from payments.channels import CHANNELS

    with translation.override("en"):
        english = [str(step) for code in ("702", "706", "711") for step in CHANNELS[code].steps]
    with translation.override("id"):
        indonesian = [str(step) for code in ("702", "706", "711") for step in CHANNELS[code].steps]
    assert english[0].startswith("ATM BCA: choose") and indonesian[0].startswith("ATM BCA: pilih")
    assert not any("below" in step for step in english) and not any("di bawah" in step for step in indonesian)
