"""Downloading everything INTRASA holds about a person (UU PDP Pasal 7, 13, 32): complete, readable,
masked where it must be, and only for its owner while the link lives."""
import datetime as dt
import hashlib
import io
import json
import re
import zipfile

import pytest
from django.conf import settings
from django.db import models
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import PayoutDestination
from disbursements.models import Disbursement, Payout
from intrasa.wib import now_wib
from milestones import services as milestone_services
from notifications.models import Notification
from notifications.services import notify
from paylinks import services as paylink_services
from payments.models import BankStatementLine, Bill
from privacy import export as export_module
from privacy import registry, services
from privacy.models import PersonalDataExport
from refunds.models import RefundRequest
from tests.factories import BankDestinationFactory, StaffFactory
from tests.milestones.conftest import TODAY, propose
from tests.partners.conftest import link_seller, make_partner

from .conftest import cancelled, png_bytes, refund_document_file, resolved_dispute

pytestmark = pytest.mark.django_db
MY_DATA = reverse("privacy:my_data")
FULL_NUMBER = "1234567890"
# Someone the buyer, as a seller, proposed a milestone plan to: their address must not leave in the archive.
OTHER_EMAIL = "klien.lain@example.co.id"


@pytest.fixture
def everything(client, buyer, seller, dispute_officer, password, committed):
    """``buyer`` with at least one record of every kind the archive has a section for."""
    # A real login through the page: a login record with the IP address and the browser.
    client.post(reverse("accounts:login"), {"username": buyer.email, "password": password},
                HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/126")
    client.post(reverse("accounts:profile"), {"profile-full_name": "Budi Santoso", "profile-phone": "0813 1111 2222",
                                               "profile-preferred_language": "en"})
    services.consent_set(user=buyer, purpose="product_news", granted=True)
    BankDestinationFactory(owner=buyer, account_number=FULL_NUMBER, account_holder_name="Budi Santoso",
                           verification=PayoutDestination.Verification.VERIFIED, is_default=True)
    sold = cancelled(buyer, seller)  # buyer as the seller of something
    dispute = resolved_dispute(seller, buyer, dispute_officer)
    txn = dispute.escrow_transaction
    bill = Bill.objects.create(escrow_transaction=txn, method="bank_transfer", channel_code="transfer",
                               bill_no="INTBILL0001", amount=txn.amount_due, status=Bill.Status.VERIFIED,
                               expires_at=timezone.now(), paid_amount=txn.amount_due, paid_at=timezone.now())
    BankStatementLine.objects.create(booked_on=timezone.now().date(), description="TRSF BUDI SANTOSO",
                                     amount=txn.amount_due, bank_reference="BCA-REF-1", imported_by=dispute_officer,
                                     matched_bill=bill)
    refund = RefundRequest.objects.get(escrow_transaction=txn)
    refund_document_file(refund, uploader=buyer)
    payout = Payout.objects.create(escrow_transaction=sold, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                                   amount=10_000, status=Payout.Status.COMPLETED, completed_at=timezone.now())
    Disbursement.objects.create(payout=payout, sequence=1, kind="bank", amount=10_000, bank_code="014",
                                account_number=FULL_NUMBER, account_name="Budi Santoso",
                                partner_reference_no="PRV-TEST-1", description="INTRASA", status="succeeded")
    notify(event_key="x", kind="confirmed_buyer", recipient=buyer,
           context={"reference": txn.reference, "title": "t", "amount": "Rp 1", "seller": "s"})
    with committed():
        services.email_change_request(user=buyer, new_email="budi.baru@example.co.id")
    services.staff_access_record(staff=dispute_officer, kind="user_profile", object_id=buyer.pk, subject=buyer,
                                 reason="Pemeriksaan rahasia", path="/admin/")
    # The newer apps, through their own services: a payment link used, a plan bought and one
    # proposed (as a seller) to someone else, and a partner linked as a seller.
    link = paylink_services.payment_link_create(
        seller=seller, title="iPhone 11 bekas", description="64 GB, mulus.", category="physical", price=2_750_000,
        shipping_cost=25_000, fee_payer="buyer", inspection_days=2, shipping_days=2)
    from_link = paylink_services.payment_link_start(payment_link=link, buyer=buyer)
    plan = propose(seller, buyer, schedule="per_milestone")
    plan = milestone_services.milestone_plan_accept(plan=plan, buyer=buyer)
    proposed = milestone_services.milestone_plan_propose(
        seller=buyer, buyer_email=OTHER_EMAIL, title="Foto produk katalog", description="Dua puluh foto produk.",
        fee_payer="seller", payment_schedule="upfront", inspection_days=2,
        milestones=[{"title": f"Sesi {i}", "amount": 500_000, "due_date": now_wib().date() + dt.timedelta(days=i)}
                    for i in (1, 2)])
    partner, _secret, _key, _raw, _staff = make_partner(name="Forum Jual Beli Kaskus")
    link_seller(partner, buyer)
    return {"dispute": dispute, "sold": sold, "bought": txn, "from_link": from_link, "plan": plan,
            "proposed": proposed}


def build(client, committed):
    with committed():
        response = client.post(reverse("privacy:export_create"))
    assert response.status_code == 302
    export = PersonalDataExport.objects.get()
    assert export.status == PersonalDataExport.Status.READY, export.error
    return export


def archive_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_every_model_with_personal_fields_is_exported_or_explained():
    assert registry.undeclared_personal_models() == {}


def test_declarations_name_models_that_exist():
    from django.apps import apps

    labels = {model._meta.label for model in apps.get_models()}
    assert registry.declared_models() <= labels


@isolate_apps("privacy")
def test_a_new_model_with_personal_fields_is_caught_until_it_is_declared():
    class ShippingAddress(models.Model):
        recipient_address = models.TextField()

        class Meta:
            app_label = "privacy"

    class Voucher(models.Model):
        owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE)

        class Meta:
            app_label = "privacy"

    class Scan(models.Model):
        upload = models.FileField()

        class Meta:
            app_label = "privacy"

    class ExchangeRate(models.Model):
        rate = models.BigIntegerField()

        class Meta:
            app_label = "privacy"

    found = registry.undeclared_personal_models([ShippingAddress, Voucher, Scan, ExchangeRate])
    assert found == {"privacy.ShippingAddress": ["recipient_address"], "privacy.Voucher": ["owner"],
                     "privacy.Scan": ["upload"]}


def test_apps_above_privacy_register_their_sections_once_and_cannot_hide_a_core_one(monkeypatch):
    # Registered by MilestonesConfig / PartnersConfig.ready(), after the core sections, and counted
    # as declared by the registry exactly like a core section.
    keys = [section.key for section in export_module.sections()]
    assert keys[: len(export_module.SECTIONS)] == [section.key for section in export_module.SECTIONS]
    assert keys[len(export_module.SECTIONS):] == ["milestone_plans", "partner_links"]
    assert {"milestones.MilestonePlan", "partners.SellerLink", "paylinks.PaymentLinkUse"} <= registry.declared_models()
    monkeypatch.setattr(export_module, "_REGISTERED", dict(export_module._REGISTERED))
    from django.apps import apps

    apps.get_app_config("partners").ready()  # ready() twice (as some test runners do): still one section
    assert [section.key for section in export_module.sections()] == keys
    with pytest.raises(ValueError):
        export_module.section_register(export_module.Section("profile", "x", ("partners.Partner",), lambda user: None))
    assert export_module.sections()[0].collect is export_module.SECTIONS[0].collect


def test_the_archive_holds_every_kind_of_record(client, buyer, everything, committed, mailoutbox):
    export = build(client, committed)
    notice = Notification.objects.get(kind="data_export_ready", recipient=buyer)
    assert notice.link == MY_DATA and any("archive is ready" in m.subject for m in mailoutbox)
    page = client.get(MY_DATA).content.decode()
    download = reverse("privacy:export_download", args=[export.pk])
    assert download in page
    archive = archive_of(client.get(download))
    names = set(archive.namelist())
    document = json.loads(archive.read("data.json"))
    sections = document["sections"]
    assert set(sections) == {section.key for section in export_module.sections()}
    assert {"payment_links", "milestone_plans", "partner_links"} <= set(sections)
    empty = [key for key, records in sections.items() if not records]
    assert empty == [], f"sections without a record: {empty}"

    assert sections["profile"][0]["email"] == "budi@example.co.id"
    assert sections["profile"][0]["full_name"] == "Budi Santoso"
    assert {c["field"] for c in sections["profile_changes"]} == {"full_name", "phone"}
    assert sections["consents"][0]["purpose"] == "product_news" and sections["consents"][0]["granted"]
    roles = {t["reference"]: t["role"] for t in sections["transactions"]}
    first_milestone = everything["plan"].milestones.get(position=1).escrow_transaction
    assert roles == {everything["sold"].reference: "seller", everything["bought"].reference: "buyer",
                     everything["from_link"].reference: "buyer", first_milestone.reference: "buyer"}
    bought = next(t for t in sections["transactions"] if t["role"] == "buyer")
    assert [step["step"] for step in bought["timeline"]][:2] == ["Transaction created", "Buyer accepted the terms"]
    assert bought["timeline"][0]["at"].endswith("+07:00")  # WIB, with its offset
    assert bought["counterparty"] == "Sari Penjual" and "sari@example.co.id" not in json.dumps(sections["transactions"])
    planted = next(p for p in sections["payments"] if p["bill_number"] == "INTBILL0001")
    assert planted["statement_description"] == "TRSF BUDI SANTOSO"
    assert sections["payouts"][0]["parts"][0]["account_number"] == "******7890"
    assert sections["payout_destinations"][0]["account_number"] == "******7890"
    assert sections["logins"][0]["ip_address"] == "127.0.0.1"
    assert sections["logins"][0]["user_agent"].startswith("Mozilla/5.0 (Linux; Android 14)")
    assert sections["email_changes"][0]["new_email"] == "budi.baru@example.co.id"
    assert sections["notifications"]
    assert {"privacy.consent_grant", "privacy.email_change_request"} <= {a["action"] for a in sections["activity"]}
    access = sections["staff_access"][0]
    assert access["what"] == "User profile" and set(access) == {"at", "what", "record"}

    # Payment links: the link bought through, by the seller's name and the transaction it started.
    [used] = sections["payment_links"]
    assert used == {"role": "buyer", "role_label": "Buyer", "title": "iPhone 11 bekas", "counterparty": "Sari Penjual",
                    "transaction": everything["from_link"].reference, "at": used["at"]}
    # Milestone plans: the one bought (with its schedule, money and milestones) and the one proposed.
    plans = {p["title"]: p for p in sections["milestone_plans"]}
    bought_plan = plans["Desain dan pembuatan situs toko"]
    assert (bought_plan["role"], bought_plan["counterparty"], bought_plan["status"]) == ("buyer", "Sari Penjual", "accepted")
    assert bought_plan["schedule"] == "Milestone by milestone" and bought_plan["total"] == 6_000_000
    assert bought_plan["your_fee_share"] == everything["plan"].buyer_fee > 0
    assert bought_plan["invited_email"] == "budi@example.co.id"  # the buyer's own address
    assert [(m["number"], m["title"], m["amount"]) for m in bought_plan["milestones"]] == [
        (1, "Tahap 1", 1_500_000), (2, "Tahap 2", 2_000_000), (3, "Tahap 3", 2_500_000)]
    assert [m["reference"] for m in bought_plan["milestones"]] == [first_milestone.reference, "", ""]
    assert bought_plan["milestones"][2]["due_date"] == (TODAY + dt.timedelta(days=21)).isoformat()
    sold_plan = plans["Foto produk katalog"]
    assert (sold_plan["role"], sold_plan["counterparty"], sold_plan["status"]) == ("seller", "", "proposed")
    assert "invited_email" not in sold_plan
    # Partner links: the partner's name and what the seller allowed, no more.
    [partner_link] = sections["partner_links"]
    assert partner_link["partner"] == "Forum Jual Beli Kaskus" and partner_link["revoked_at"] is None
    assert "Create transactions in your name" in partner_link["scopes"]
    assert set(partner_link) == {"partner", "scopes", "linked_at", "revoked_at"}
    # Other people's contact details stay out: the plan's addressee and the seller.
    for key in ("payment_links", "milestone_plans", "partner_links"):
        assert "sari@example.co.id" not in json.dumps(sections[key]), key

    # Files: the buyer's own uploads are in the archive, byte for byte; the seller's are only listed.
    dispute = sections["disputes"][0]
    mine = next(e for e in dispute["evidence"] if e["file_name"] == "retak.png")
    theirs = next(e for e in dispute["evidence"] if e["file_name"] == "resi-kirim.pdf")
    assert archive.read(mine["file_in_archive"]) == png_bytes()
    assert theirs["file_in_archive"] == "" and not any("resi-kirim" in name for name in names)
    written = {m["message"]: m["written_by_you"] for m in dispute["messages"]}
    assert written["Layar retak saat dibuka"] is True and written["Dikirim dalam kondisi baik"] is False
    document_file = sections["refund_requests"][0]["documents"][-1]["file_in_archive"]
    assert archive.read(document_file).startswith(b"%PDF")

    # Masked everywhere, and no staff names or reasons.
    raw = b"".join(archive.read(name) for name in names)
    assert FULL_NUMBER.encode() not in raw
    assert b"Pemeriksaan rahasia" not in raw and dispute_officer_email(everything).encode() not in raw
    assert OTHER_EMAIL.encode() not in raw

    pdf_name = next(name for name in names if name.endswith(".pdf") and "/" not in name)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read(pdf_name))).pages))
    for expected in (everything["bought"].reference, "Budi Santoso", "******7890", "Payout destinations",
                     "When INTRASA staff opened your data", "retak.png", "Payment links", "iPhone 11 bekas",
                     everything["from_link"].reference, "Milestone plans", "Desain dan pembuatan situs toko",
                     "Rp 6.000.000", "Tahap 3", "Partners you linked your account to", "Forum Jual Beli Kaskus"):
        assert expected in text, expected
    assert hashlib.sha256(b"".join(client.get(download).streaming_content)).hexdigest() == export.sha256


def dispute_officer_email(everything) -> str:
    return everything["dispute"].resolved_by.email


def test_the_pdf_has_a_label_for_every_field(buyer, everything):
    document, _files = export_module.collect(buyer)
    sections = export_module.present(document)  # raises KeyError for a field without a label
    assert sum(len(section["records"]) for section in sections) >= len(export_module.sections())


def test_the_link_is_for_the_owner_logged_in_and_expires(client, buyer, stranger, committed, password):
    client.force_login(buyer)
    export = build(client, committed)
    url = reverse("privacy:export_download", args=[export.pk])
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    client.logout()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # logout forgets every cookie
    response = client.get(url)
    assert response.status_code == 302 and "/akun/masuk/" in response.url
    client.force_login(buyer)
    assert client.get(url).status_code == 200
    PersonalDataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(url, follow=True)
    assert response.redirect_chain and "This download link has expired" in response.content.decode()
    assert "application/zip" not in response.get("Content-Type", "")


def test_a_ready_archive_without_an_expiry_counts_as_expired(client, buyer, committed):
    # expires_at is nullable (unset until ready); a ready row without it is refused, not a 500.
    client.force_login(buyer)
    export = build(client, committed)
    PersonalDataExport.objects.filter(pk=export.pk).update(expires_at=None)
    export.refresh_from_db()
    with pytest.raises(services.PrivacyError) as excinfo:
        services.export_download(export=export, user=buyer)
    assert excinfo.value.code == "expired"
    assert PersonalDataExport.objects.get(pk=export.pk).downloaded_at is None


def test_the_link_lasts_seven_days(client, buyer, committed):
    client.force_login(buyer)
    export = build(client, committed)
    assert export.expires_at - export.ready_at == dt.timedelta(days=7)


def test_building_twice_stores_one_archive(buyer, committed, settings):
    export = PersonalDataExport.objects.create(user=buyer)
    first = services.export_build(export_id=export.pk)
    second = services.export_build(export_id=export.pk)
    assert first.file.name == second.file.name
    stored = list((settings.MEDIA_ROOT / "private" / "exports").iterdir())
    assert len(stored) == 1


def test_one_archive_at_a_time_and_a_few_a_day(buyer):
    services.export_request(user=buyer)
    with pytest.raises(services.PrivacyError) as refused:
        services.export_request(user=buyer)
    assert refused.value.code == "pending"
    PersonalDataExport.objects.update(status=PersonalDataExport.Status.READY)
    for _ in range(services.EXPORTS_PER_DAY - 1):
        services.export_request(user=buyer)
        PersonalDataExport.objects.update(status=PersonalDataExport.Status.READY)
    with pytest.raises(services.PrivacyError) as refused:
        services.export_request(user=buyer)
    assert refused.value.code == "too_many"


def test_a_staff_member_cannot_download_someone_elses_archive(client, buyer, committed):
    client.force_login(buyer)
    export = build(client, committed)
    client.force_login(StaffFactory(email="staf@intrasa.co.id", is_superuser=True))
    assert client.get(reverse("privacy:export_download", args=[export.pk])).status_code == 404
