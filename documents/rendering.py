"""HTML → PDF with WeasyPrint, in the reader's language, with nothing fetched from outside, each
document rendered once per state.

Documents embed everything they show (CSS inline, the QR code as inline SVG from
``intrasa.qr.qr_svg``, fonts from the system: Noto Sans with DejaVu Sans as fallback, see
``scripts/system-deps.sh``), so rendering never touches the network: the URL fetcher refuses
every URL. That also keeps text a seller typed (a title with an ``<img src=…>``, escaped anyway)
from making the server fetch anything.

Rendering costs about 0.75 s of CPU, so a document is rendered once and served from the cache
(``cached_pdf``) until anything it shows changes. The cache key is the SHA-256 of the document's
HTML rendered with a fixed "issued" time: every status, date, amount, name, ledger line, timeline
step, payment channel, the language and the reader's view of the ledger are in that HTML, so a
transition, a new ledger line, a renamed party or a template change gives a new key by
construction — there is no list of fields to keep in step with the templates, and no stale
document after a transition. A cached PDF keeps the "issued" time of its first rendering: it is the
same document. As a second defence every actual rendering counts against the reader's
``RENDERS_PER_USER`` limit; a cached document is free.
"""
import datetime as dt
import hashlib

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation

from intrasa.ratelimit import DOCUMENT_RENDERS

CACHE_SECONDS = 24 * 60 * 60
CACHE_VERSION = "1"  # bump when the PDF changes without its HTML changing (fonts, WeasyPrint options)
# Renders (cache misses) per user: a person reading their documents never gets near it.
RENDERS_PER_USER = DOCUMENT_RENDERS
_FINGERPRINT_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"documents embed their resources; refusing to fetch {url!r}")


def render_html(template_name: str, context: dict, *, language: str, issued_at) -> str:
    with translation.override(language):
        return render_to_string(template_name, {**context, "issued_at": issued_at, "language": language})


def html_to_pdf(html: str) -> bytes:
    from PIL import ImageFile
    from weasyprint import HTML  # imported lazily: loading Pango takes a moment

    # Importing WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process. INTRASA's
    # documents embed no raster image, and uploads (intrasa.uploads) must refuse truncated files.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()


def render_pdf(template_name: str, context: dict, *, language: str) -> bytes:
    """Render now, without the cache."""
    return html_to_pdf(render_html(template_name, context, language=language, issued_at=timezone.now()))


def document_cache_key(template_name: str, context: dict, *, language: str) -> str:
    html = render_html(template_name, context, language=language, issued_at=_FINGERPRINT_TIME)
    return f"documents:pdf:v{CACHE_VERSION}:{hashlib.sha256(html.encode()).hexdigest()}"


class RenderLimitReached(Exception):
    """The reader rendered ``RENDERS_PER_USER.limit`` documents in the window; try again in
    ``retry_after`` seconds, when the reader's window ends."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def cached_pdf(template_name: str, context: dict, *, language: str, user) -> bytes:
    """The PDF for this exact content, from the cache or rendered now (counted against ``user``).
    Raises ``RenderLimitReached`` when a rendering is needed and ``user`` has no renders left."""
    key = document_cache_key(template_name, context, language=language)
    pdf = cache.get(key)
    if pdf is not None:
        return pdf
    if not RENDERS_PER_USER.hit(str(user.pk)):
        raise RenderLimitReached(RENDERS_PER_USER.seconds_left(str(user.pk)))
    pdf = render_pdf(template_name, context, language=language)
    cache.set(key, pdf, CACHE_SECONDS)
    return pdf
