"""Files people upload as evidence (disputes) or refund documents (refunds): checking, cleaning,
storing and handing them out. ``check_upload`` is the one gate every upload passes.

What a file must be
-------------------
* The type is decided by the **content**, not the name: a JPEG, PNG, WebP or GIF image that Pillow
  decodes; a PDF (``%PDF-``); an MP4/MOV video (an ISO base media ``ftyp`` box at offset 4). The
  extension must name exactly that format (a PNG called ``.jpg`` is refused, so is a PDF called
  ``.jpg`` or a renamed executable).
* **Nothing that a browser could run**: a file whose bytes look like a web page, SVG or script
  (``<html``, ``<script``, ``<svg``, ``javascript:``… in its first 4 KB, or the unmistakable ones
  anywhere) is refused whatever its name — the HTML-inside-a-PDF or HTML-inside-a-JPEG polyglots.
* **PDFs without active content**: JavaScript (``/JS``, ``/JavaScript``), ``/Launch``, embedded
  files, ``/RichMedia``, XFA forms, additional actions (``/AA``), ``/SubmitForm``, ``/ImportData``,
  remote go-to actions, and an ``/OpenAction`` that is any of these, are refused. Two independent
  checks: pypdf walks every object (including compressed object streams) and a byte-level scan
  reads the dictionaries outside streams with ``#xx`` name escapes decoded, so a file pypdf reads
  differently from a viewer is still caught. A PDF that pypdf cannot read, or that needs a password
  to open, is refused too: nobody at INTRASA could check or open it either.
* The size limits per type live in ``settings.UPLOAD_MAX_BYTES`` (one place) and apply to the file
  as uploaded.

What is stored
--------------
* **Images are re-encoded** (Pillow) so that no metadata survives: no EXIF (GPS position, phone
  make and model, time), no XMP, no ICC profile (its colours are converted to sRGB first), no
  comments, nothing appended after the image data. The EXIF orientation is applied to the pixels,
  animations keep their first frame, and the longest side is scaled down to ``MAX_IMAGE_SIDE``
  (3000 px keeps a serial number or a scratch legible). JPEG, PNG and WebP stay in their format;
  GIF becomes PNG. Images larger than ``MAX_IMAGE_PIXELS`` decoded pixels (decompression bombs)
  are refused before they are decoded.
* **Videos** keep their bytes, except the metadata boxes (``udta``, ``meta`` and XMP ``uuid``
  boxes of the movie and its tracks, where phones write the location and the model): each becomes
  a ``free`` box of the same size filled with zeros, so no sample offset moves and every player
  still plays the file. PDFs are stored as uploaded (after the checks above).
* Files are private: stored under ``MEDIA_ROOT/private/`` (never served as static media) and
  handed out only by views that ask ``refunds.access`` — as attachments (``private_file_response``):
  ``Content-Disposition: attachment``, ``Content-Security-Policy: sandbox``, ``nosniff`` and the
  content type decided here, so even a file that slipped through is never rendered as a page of
  INTRASA's origin.
* **Integrity**: ``sha256`` is the hash of the stored bytes — the file anyone downloads, which is
  what the dispute page shows and what staff compare. ``original_sha256`` is the hash of the file
  as uploaded: INTRASA keeps no copy of the original (that is the point of cleaning it), but a
  party who still has the photo on their phone can show that it is the one they uploaded.
"""
import hashlib
import io
import os
import re
import uuid
import warnings
from dataclasses import dataclass
from typing import NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

# Format (as Pillow names it) → (stored format, content type, extension of the stored file).
IMAGE_OUTPUT = {
    "JPEG": ("JPEG", "image/jpeg", ".jpg"),
    "PNG": ("PNG", "image/png", ".png"),
    "WEBP": ("WEBP", "image/webp", ".webp"),
    "GIF": ("PNG", "image/png", ".png"),  # first frame; GIF's palette-only encoder gains nothing
}
# The extensions each format may be uploaded under.
IMAGE_EXTENSIONS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "WEBP": {".webp"}, "GIF": {".gif"}}
VIDEO_EXTENSIONS = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}
DOCUMENT_EXTENSIONS = {".pdf"}
QUICKTIME_BRAND = b"qt  "
# The content types this module hands out; anything else is served as opaque bytes.
SAFE_CONTENT_TYPES = {"image/jpeg", "image/png", "image/webp", "application/pdf", "video/mp4",
                      "video/quicktime"}

MAX_IMAGE_SIDE = 3000
# A 5 MB photo has at most ~25 million pixels; a small file that claims far more is a bomb.
MAX_IMAGE_PIXELS = 40_000_000
JPEG_QUALITY = 88
WEBP_QUALITY = 85

# Markup a browser would run or render, looked for in the first bytes (where browsers sniff and
# where polyglots put it) and, for the longer and unmistakable ones, anywhere in the file.
# Both are matched against the lower-cased bytes (a plain substring search: fast on 25 MB).
MARKUP_HEAD_BYTES = 4096
MARKUP_ANYWHERE = (b"<script", b"<iframe", b"<!doctype", b"<html>", b"<html ", b"<html\n", b"<html\r", b"<html\t",
                   b"javascript:", b"vbscript:")
MARKUP_IN_HEAD = re.compile(
    rb"<(?:script|iframe|html|head|body|svg|object|embed|frameset|frame|form|img|style|link|meta|base"
    rb"|a\s|div|span|table|title|math|template|\?xml-stylesheet|!doctype|!entity)"
    rb"|javascript:|vbscript:|data:text/html")

# PDF names that make a viewer run, launch, embed or submit something.
PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
                   "/XFA", "/AA", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR"}
PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute", "/GoToE",
                      "/GoToR", "/Rendition", "/Sound", "/Movie"}
PDF_ACTIVE_TYPES = {"/EmbeddedFile", "/RichMedia", "/Filespec"}
PDF_ACTIVE_BYTES = re.compile(
    rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia(?:Execute)?|XFA|AA|SubmitForm|ImportData|GoToE|GoToR)"
    rb"(?![A-Za-z0-9_.#-])")
PDF_STREAM = re.compile(rb"\bstream(?:\r\n|\r|\n).*?endstream\b", re.DOTALL)
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_MAX_OBJECTS = 200_000

# ISO base media boxes where phones write location, make and model; replaced by ``free`` boxes.
VIDEO_METADATA_BOXES = {b"udta", b"meta"}
VIDEO_CONTAINER_BOXES = {b"moov", b"trak", b"mdia"}
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")


class PrivateStorage(FileSystemStorage):
    """``MEDIA_ROOT/private``, with no URL: there is no public address for these files.

    The location follows ``MEDIA_ROOT`` even when a test changes it (FileSystemStorage drops its
    cached ``base_location`` on ``setting_changed``)."""

    def __init__(self):
        super().__init__(base_url=None)

    @cached_property
    def base_location(self):
        return os.path.join(settings.MEDIA_ROOT, "private")

    def url(self, name):
        raise ValueError("private files have no public URL; link to the checking view instead")


_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    return _storage


@dataclass(frozen=True)
class CheckedFile:
    kind: str  # image | video | document
    content_type: str
    content: ContentFile  # what to store: the cleaned bytes
    size: int  # of the stored bytes
    sha256: str  # of the stored bytes
    original_sha256: str  # of the file as uploaded
    extension: str  # of the stored file


def _refuse(message: str, code: str = "file_type") -> NoReturn:
    raise ValidationError(message, code=code)


def _limit_text(kind: str) -> str:
    mb = settings.UPLOAD_MAX_BYTES[kind] // (1024 * 1024)
    return _("%(kind)s files may be at most %(mb)d MB.") % {"kind": _kind_label(kind), "mb": mb}


def _kind_label(kind: str) -> str:
    return {"image": _("Image"), "video": _("Video"), "document": _("Document")}[kind]


def _accepted() -> str:
    return _("Accepted: photos (JPG, PNG, WebP), videos (MP4, MOV) and PDF documents.")


def _read_all(upload) -> bytes:
    upload.seek(0)
    data = b"".join(upload.chunks())
    upload.seek(0)
    return data


def _image_format(data: bytes) -> str | None:
    """Pillow's name for the image format, from the header only (nothing is decoded yet)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.format if image.format in IMAGE_OUTPUT else None
    except Image.DecompressionBombError:
        return "bomb"
    except Exception:  # noqa: BLE001 - Pillow raises many types for "not an image I can read"
        return None


def _sniff(data: bytes) -> tuple[str, str] | None:
    """(kind, format) from the content: ("document", "PDF"), ("video", content type) or
    ("image", Pillow format); ``None`` if it is nothing we accept."""
    if data.startswith(b"%PDF-"):
        return "document", "PDF"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video", "video/quicktime" if data[8:12] == QUICKTIME_BRAND else "video/mp4"
    image_format = _image_format(data)
    if image_format == "bomb":
        return "image", "bomb"
    return ("image", image_format) if image_format else None


def _extension_matches(kind: str, file_format: str, extension: str) -> bool:
    if kind == "image":
        return extension in IMAGE_EXTENSIONS.get(file_format, set())
    if kind == "video":
        return extension in VIDEO_EXTENSIONS
    return extension in DOCUMENT_EXTENSIONS


def contains_markup(data: bytes) -> bool:
    """Whether ``data`` looks like (or hides) a web page, SVG or script."""
    lowered = data.lower()
    return bool(MARKUP_IN_HEAD.search(lowered[:MARKUP_HEAD_BYTES])) or any(m in lowered for m in MARKUP_ANYWHERE)


# --- images -------------------------------------------------------------------------------------

def _too_large_image(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” has too many pixels to be a photo (at most %(megapixels)d megapixels).")
        % {"name": name, "megapixels": MAX_IMAGE_PIXELS // 1_000_000}, code="image_too_large")


def _to_srgb(image):
    """Colours from an embedded ICC profile converted to sRGB, so the profile can be dropped."""
    from PIL import ImageCms

    profile = image.info.get("icc_profile")
    if not profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output_mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB"
        if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
            image = image.convert(output_mode)
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: keep the pixels as they are, drop the profile


def _output_mode(image, output_format: str) -> str:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if output_format == "JPEG":
        return "L" if image.mode in ("1", "L") else "RGB"
    if output_format == "PNG" and image.mode in ("1", "L", "LA", "RGB", "RGBA"):
        return image.mode if image.mode != "1" else "L"
    return "RGBA" if has_alpha else "RGB"


def reencode_image(data: bytes, name: str) -> tuple[bytes, str, str, str]:
    """The image's pixels in a fresh file with no metadata: (bytes, content type, extension, format).
    Raises ``ValidationError`` for images Pillow cannot decode and for decompression bombs."""
    from PIL import Image, ImageFile, ImageOps

    # WeasyPrint (documents) sets this process-wide when it is imported; a truncated upload must be
    # refused, not padded with grey. documents.rendering turns it off again after that import.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Annotated as the base class: the steps below replace it with plain (non-file) images.
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _too_large_image(name)
            source_format = image.format
            if source_format is None or source_format not in IMAGE_OUTPUT:
                # The caller sniffed one of IMAGE_OUTPUT from the same bytes; anything else is unreadable.
                raise ValueError(f"unexpected image format {source_format!r}")
            if source_format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that is still large enough.
                image.draft(image.mode, (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            image.seek(0)
            image.load()
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large_image(name) from None
        except Exception:  # noqa: BLE001 - truncated, corrupt, unsupported: all "cannot decode"
            raise ValidationError(_("“%(name)s” is damaged or not a complete image; it could not be read.")
                                  % {"name": name}, code="image_unreadable") from None
    output_format, content_type, extension = IMAGE_OUTPUT[source_format]
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - an unreadable EXIF block: keep the pixels unrotated
        pass
    image = _to_srgb(image)
    mode = _output_mode(image, output_format)
    if image.mode != mode:
        if mode in ("RGB", "L") and (image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info):
            # Flatten transparency onto white, as a photo viewer shows it.
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            background.alpha_composite(rgba)
            image = background.convert(mode)
        else:
            image = image.convert(mode)
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
    # A new image carries no ``info`` (EXIF, XMP, ICC, comments, text chunks): only the pixels.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    output = io.BytesIO()
    if output_format == "JPEG":
        clean.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif output_format == "WEBP":
        clean.save(output, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        clean.save(output, "PNG", optimize=False)
    return output.getvalue(), content_type, extension, output_format


# --- PDFs ---------------------------------------------------------------------------------------

def _active_pdf_bytes(data: bytes) -> str | None:
    """The first active-content name in the PDF's dictionaries (outside streams), or ``None``."""
    outside_streams = PDF_STREAM.sub(b" ", data)
    decoded = PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), outside_streams)
    found = PDF_ACTIVE_BYTES.search(decoded)
    return found.group(0).decode("latin-1") if found else None


def _active_pdf_objects(reader) -> str | None:
    """The first active-content name pypdf finds in any object of the file, or ``None``."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    roots = [reader.trailer]
    for generation, numbers in reader.xref.items():
        roots.extend(IndirectObject(number, generation, reader) for number in numbers)
    roots.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    seen: set[tuple[int, int]] = set()
    stack = list(roots)
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            return "/TooManyObjects"
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                if name in PDF_ACTIVE_KEYS:
                    return str(name)
                stack.append(value)
            if item.get("/S") in PDF_ACTIVE_ACTIONS:
                return str(item.get("/S"))
            if item.get("/Type") in PDF_ACTIVE_TYPES and ("/EF" in item or item.get("/Type") != "/Filespec"):
                return str(item.get("/Type"))
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return None


def check_pdf(data: bytes, name: str) -> None:
    """Refuse a PDF that is unreadable, locked with a password, or has active content."""
    from pypdf import PdfReader

    unreadable = ValidationError(_("“%(name)s” is damaged or not a PDF we can read.") % {"name": name},
                                 code="pdf_unreadable")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened: int = reader.decrypt("")  # a PasswordType, an IntEnum: 0 = not decrypted
            except Exception:  # noqa: BLE001 - unknown encryption handlers raise their own errors
                opened = 0
            if not opened:
                raise ValidationError(
                    _("“%(name)s” is protected with a password. Upload it without the password (for example "
                      "save or print it again as PDF), or upload a photo or screenshot of it.") % {"name": name},
                    code="pdf_encrypted")
        active = _active_pdf_objects(reader) or _active_pdf_bytes(data)
        if not reader.pages:
            raise unreadable
    except ValidationError:
        raise
    except RecursionError:
        raise unreadable from None
    except Exception:  # noqa: BLE001 - pypdf raises many types for a malformed file
        raise unreadable from None
    if active:
        raise ValidationError(
            _("“%(name)s” contains scripts, embedded files or automatic actions (%(feature)s), which we do not "
              "accept in PDF documents. Save or print it again as a plain PDF, or upload a photo of it.")
            % {"name": name, "feature": active.lstrip("/")}, code="pdf_active_content")


# --- videos -------------------------------------------------------------------------------------

def scrub_video_metadata(data: bytes, name: str) -> bytes:
    """The video with its metadata boxes turned into zero-filled ``free`` boxes (same size)."""
    video = bytearray(data)
    damaged = ValidationError(_("“%(name)s” is damaged or not a complete video.") % {"name": name},
                              code="video_unreadable")

    def walk(start: int, end: int, depth: int) -> None:
        position = start
        while position + 8 <= end:
            size = int.from_bytes(video[position:position + 4], "big")
            box = bytes(video[position + 4:position + 8])
            header = 8
            if size == 1:
                if position + 16 > end:
                    raise damaged
                size = int.from_bytes(video[position + 8:position + 16], "big")
                header = 16
            elif size == 0:
                size = end - position  # "to the end of the file"
            if size < header or position + size > end:
                raise damaged
            payload = position + header
            is_xmp = box == b"uuid" and bytes(video[payload:payload + 16]) == XMP_UUID
            if box in VIDEO_METADATA_BOXES or is_xmp:
                video[position + 4:position + 8] = b"free"
                video[payload:position + size] = bytes(position + size - payload)
            elif box in VIDEO_CONTAINER_BOXES and depth < 4:
                walk(payload, position + size, depth + 1)
            position += size

    walk(0, len(video), 0)
    return bytes(video)


# --- the gate -----------------------------------------------------------------------------------

def check_upload(upload, *, allowed_kinds=("image", "video", "document")) -> CheckedFile:
    """Validate and clean ``upload`` (a Django ``UploadedFile``). Returns what to store; raises
    ``ValidationError`` with a message in the active language when the file is not acceptable."""
    name = upload.name or ""
    extension = os.path.splitext(name)[1].lower()
    if upload.size > max(settings.UPLOAD_MAX_BYTES.values()):
        kind = "video" if extension in VIDEO_EXTENSIONS else "document" if extension == ".pdf" else "image"
        _refuse(_("“%(name)s” is too large. %(limit)s") % {"name": name, "limit": _limit_text(kind)}, "file_size")
    data = _read_all(upload)
    if contains_markup(data):
        _refuse(_("“%(name)s” contains web page code (HTML, SVG or script) and cannot be accepted. %(accepted)s")
                % {"name": name, "accepted": _accepted()}, "file_markup")
    sniffed = _sniff(data)
    if sniffed is None:
        _refuse(_("“%(name)s” is not a photo, video or PDF document we can accept. %(accepted)s")
                % {"name": name, "accepted": _accepted()})
    kind, file_format = sniffed
    if file_format == "bomb":
        raise _too_large_image(name)
    if not _extension_matches(kind, file_format, extension):
        _refuse(_("The name of “%(name)s” does not match its content (%(kind)s). %(accepted)s")
                % {"name": name, "kind": _kind_label(kind), "accepted": _accepted()})
    if kind not in allowed_kinds:
        _refuse(_("%(kind)s files are not accepted here.") % {"kind": _kind_label(kind)})
    if upload.size > settings.UPLOAD_MAX_BYTES[kind]:
        _refuse(_("“%(name)s” is too large. %(limit)s") % {"name": name, "limit": _limit_text(kind)}, "file_size")
    original_sha256 = hashlib.sha256(data).hexdigest()
    if kind == "image":
        stored, content_type, extension, _format = reencode_image(data, name)
    elif kind == "video":
        stored, content_type = scrub_video_metadata(data, name), file_format
    else:
        check_pdf(data, name)
        stored, content_type = data, "application/pdf"
    return CheckedFile(kind=kind, content_type=content_type, content=ContentFile(stored, name=f"upload{extension}"),
                       size=len(stored), sha256=hashlib.sha256(stored).hexdigest(), original_sha256=original_sha256,
                       extension=extension)


def private_path(folder: str, extension: str) -> str:
    """A random name under ``folder``: nothing about the person or the file leaks from it."""
    return f"{folder}/{uuid.uuid4().hex}{extension}"


# --- handing files out --------------------------------------------------------------------------

def download_name(original_name: str, content_type: str) -> str:
    """The name a download is saved under: the uploader's name with the extension of what the
    file really is (a re-encoded GIF is a .png), without path or control characters."""
    stem = os.path.splitext(os.path.basename(original_name or ""))[0]
    stem = "".join(ch for ch in stem if ch.isprintable() and ch not in '\\/:*?"<>|').strip(". ") or "file"
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf",
                 "video/mp4": ".mp4", "video/quicktime": ".mov"}.get(content_type, ".bin")
    return f"{stem[:150]}{extension}"


def private_file_response(file_field, *, content_type: str, original_name: str) -> FileResponse:
    """A stored upload as a download that no browser renders as a page of this site: attachment,
    a sandboxing CSP (no script, no same-origin access even if opened), ``nosniff``, a content type
    from ``SAFE_CONTENT_TYPES`` and no caching."""
    content_type = content_type if content_type in SAFE_CONTENT_TYPES else "application/octet-stream"
    response = FileResponse(file_field.open("rb"), content_type=content_type, as_attachment=True,
                            filename=download_name(original_name, content_type))
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


THUMBNAIL_SIDE = 240


def image_thumbnail(file_field, *, side: int = THUMBNAIL_SIDE) -> bytes:
    """A small JPEG of a stored image upload (staff pages show evidence as thumbnails). Drawn anew
    from the pixels, so what the browser receives is our own encoding, never the uploaded bytes.
    Raises ``ValueError`` for anything that is not a readable image of a sane size."""
    from PIL import Image

    file_field.open("rb")
    try:
        data = file_field.read()
    finally:
        file_field.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_IMAGE_PIXELS or image.format not in IMAGE_OUTPUT:
                raise ValueError("not a thumbnail-able image")
            image.draft("RGB", (side, side))
            image.load()
        except ValueError:
            raise
        except Exception as exc:  # noqa: BLE001 - corrupt, truncated, a bomb: no thumbnail
            raise ValueError("unreadable image") from exc
    image = image.convert("RGBA") if image.mode in ("P", "PA", "LA") else image
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image)
        image = background
    image = image.convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return output.getvalue()
