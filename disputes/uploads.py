"""Files people upload as evidence (disputes) or refund documents (refunds): checking and storing.

* The type is decided by the **content**, not the name: Pillow must be able to open and verify an
  image; a PDF must start with ``%PDF-``; an MP4/MOV video must carry an ISO base media ``ftyp``
  box at offset 4. The extension must agree with what the content is, so that a renamed
  executable or a PDF called ``.jpg`` is refused too.
* The size limits per type live in ``settings.UPLOAD_MAX_BYTES`` (one place).
* Files are private: stored under ``MEDIA_ROOT/private/`` (never served as static media) and
  handed out only by views that check the person is a party to the transaction or staff.
* Each stored file records its SHA-256, so staff can show that evidence was not altered.
"""
import hashlib
import os
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
VIDEO_EXTENSIONS = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}
DOCUMENT_EXTENSIONS = {".pdf"}
QUICKTIME_BRAND = b"qt  "


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
    size: int
    sha256: str
    extension: str


def _limit_text(kind: str) -> str:
    mb = settings.UPLOAD_MAX_BYTES[kind] // (1024 * 1024)
    return _("%(kind)s files may be at most %(mb)d MB.") % {"kind": _kind_label(kind), "mb": mb}


def _kind_label(kind: str) -> str:
    return {"image": _("Image"), "video": _("Video"), "document": _("Document")}[kind]


def _sniff(head: bytes, upload) -> tuple[str, str] | None:
    """(kind, content type) from the first bytes, or ``None`` if it is nothing we accept."""
    if head.startswith(b"%PDF-"):
        return "document", "application/pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video", "video/quicktime" if brand == QUICKTIME_BRAND else "video/mp4"
    try:
        from PIL import Image

        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many types for "not an image I can read"
        return None
    finally:
        upload.seek(0)
    if image_format in IMAGE_FORMATS:
        return "image", IMAGE_FORMATS[image_format]
    return None


def check_upload(upload, *, allowed_kinds=("image", "video", "document")) -> CheckedFile:
    """Validate ``upload`` (a Django ``UploadedFile``); raise ``ValidationError`` with a message in
    the active language when its type or size is not acceptable."""
    name = upload.name or ""
    extension = os.path.splitext(name)[1].lower()
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    sniffed = _sniff(head, upload)
    accepted = _("Accepted: photos (JPG, PNG, WebP), videos (MP4, MOV) and PDF documents.")
    if sniffed is None:
        raise ValidationError(
            _("“%(name)s” is not a photo, video or PDF document we can accept. %(accepted)s")
            % {"name": name, "accepted": accepted}, code="file_type")
    kind, content_type = sniffed
    expected_extensions = {"image": IMAGE_EXTENSIONS, "video": set(VIDEO_EXTENSIONS),
                           "document": DOCUMENT_EXTENSIONS}[kind]
    if extension not in expected_extensions:
        raise ValidationError(
            _("The name of “%(name)s” does not match its content (%(kind)s). %(accepted)s")
            % {"name": name, "kind": _kind_label(kind), "accepted": accepted}, code="file_type")
    if kind not in allowed_kinds:
        raise ValidationError(_("%(kind)s files are not accepted here.") % {"kind": _kind_label(kind)},
                              code="file_type")
    if upload.size > settings.UPLOAD_MAX_BYTES[kind]:
        raise ValidationError(
            _("“%(name)s” is too large. %(limit)s") % {"name": name, "limit": _limit_text(kind)},
            code="file_size")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(kind=kind, content_type=content_type, size=upload.size, sha256=digest.hexdigest(),
                       extension=extension)


def private_path(folder: str, extension: str) -> str:
    """A random name under ``folder``: nothing about the person or the file leaks from it."""
    return f"{folder}/{uuid.uuid4().hex}{extension}"
