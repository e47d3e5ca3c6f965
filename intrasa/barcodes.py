"""One-dimensional barcodes drawn by INTRASA itself, like the QR codes (intrasa.qr): inline SVG.

python-barcode encodes the content (Code 128, what convenience-store cashiers' scanners read);
the SVG is drawn here from its modules, with presentation attributes instead of the library's
``style=`` attributes, which the Content-Security-Policy (no inline style) would block.
"""
import barcode
from django.utils.html import escape
from django.utils.safestring import mark_safe

QUIET_ZONE = 10  # modules of white on each side: scanners need them


def code128_svg(content: str, *, label: str = "", module_px: int = 2, height_px: int = 72) -> str:
    """An SVG element with ``content`` as a Code 128 barcode; ``label`` becomes its accessible name."""
    modules = barcode.get("code128", content).build()[0]
    width = (len(modules) + 2 * QUIET_ZONE) * module_px
    bars = []
    x = QUIET_ZONE * module_px
    run_start = None
    for index, module in enumerate(modules + "0"):
        if module == "1" and run_start is None:
            run_start = index
        elif module != "1" and run_start is not None:
            bars.append(f'<rect x="{x + run_start * module_px}" y="0" width="{(index - run_start) * module_px}" '
                        f'height="{height_px}"/>')
            run_start = None
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label or content)}" '
        f'viewBox="0 0 {width} {height_px}" width="{width}" height="{height_px}" data-modules="{len(modules)}">'
        f'<rect width="{width}" height="{height_px}" fill="#fff"/><g fill="#000">{"".join(bars)}</g></svg>'
    )
