"""HTML → PDF with WeasyPrint, in the reader's language, with nothing fetched from outside.

Documents embed everything they show (CSS inline, the QR code as inline SVG from
``intrasa.qr.qr_svg``, fonts from the system: Noto Sans with DejaVu Sans as fallback, see
``scripts/system-deps.sh``), so rendering never touches the network: the URL fetcher refuses
every URL. That also keeps text a seller typed (a title with an ``<img src=…>``, escaped anyway)
from making the server fetch anything.
"""
from django.template.loader import render_to_string
from django.utils import timezone, translation


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"documents embed their resources; refusing to fetch {url!r}")


def render_pdf(template_name: str, context: dict, *, language: str) -> bytes:
    from weasyprint import HTML  # imported lazily: loading Pango takes a moment

    with translation.override(language):
        html = render_to_string(template_name, {**context, "issued_at": timezone.now(),
                                                "language": language})
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
