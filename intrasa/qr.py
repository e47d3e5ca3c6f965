"""QR codes drawn by INTRASA itself (never an external image service): inline SVG."""
import io

import qrcode
import qrcode.image.svg
from django.utils.safestring import mark_safe


def qr_svg(content: str, *, size_mm: int = 60) -> str:
    """An SVG element for ``content``; safe to embed (the content is only encoded as modules)."""
    image = qrcode.make(content, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace('width="', f'data-size="{size_mm}" width="', 1)
    return mark_safe(svg.replace(svg[svg.index('width="'):svg.index(' version=')],
                                 f'width="{size_mm}mm" height="{size_mm}mm"', 1))


def qr_png(content: str, *, box_size: int = 10) -> bytes:
    """The same QR code as a PNG image, for a buyer who pays from the phone that shows it and must
    save the code to open it in the payment app (a screen cannot scan itself)."""
    image = qrcode.make(content, box_size=box_size, border=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
