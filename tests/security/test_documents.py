"""Who sees each private record of a transaction — files, refund accounts, PDFs, ledger lines —
walked case × party × record against the decisions written in ``refunds.access``.

The expectations below are written out by hand (not read from ``refunds.access``), so a change of
the rules there fails here until someone decides it on purpose. Someone who may not see a record
gets 404 (not 403: they must not learn that it exists); an anonymous visitor is sent to log in.
"""
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction as db_transaction
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from disputes import services as dispute_services
from disputes.models import Evidence
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from payments.models import Bill
from refunds import services as refund_services
from refunds.models import RefundDocument, RefundRequest
from refunds.policy import RefundCase
from refunds.services import refund_request_for_owed_payment
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disputes.conftest import pdf_bytes
from tests.factories import StaffFactory
from transactions.models import Status

pytestmark = pytest.mark.django_db

PARTIES = ("buyer", "seller", "finance", "officer", "customer_service", "plain_staff", "stranger", "anonymous")
STAFF_ROLES = {"finance", "officer", "customer_service"}  # the roles of accounts/migrations/0003
BUYERS_OWN_MONEY = {RefundCase.DOUBLE_PAYMENT, RefundCase.EXCESS_PAYMENT, RefundCase.FAILED_PAYMENT}


@pytest.fixture
def people(buyer, seller, finance, officer, customer_service, stranger):
    plain_staff = StaffFactory(email="magang@intrasa.co.id", full_name="Staf Tanpa Peran")
    return {"buyer": buyer, "seller": seller, "finance": finance, "officer": officer,
            "customer_service": customer_service, "plain_staff": plain_staff, "stranger": stranger,
            "anonymous": None}


def as_party(client, people, party):
    client.logout()
    if people[party] is not None:
        client.force_login(people[party])
    return client


def fetch_file(client, people, party, url, *, reason_slug, pk):
    """GET a private file as ``party``; staff first say why (privacy.access asks a reason before a
    sensitive file is served to staff, and logs it)."""
    user = people[party]
    if user is not None and user.is_staff:
        client.post(reverse("privacy:staff_access", kwargs={"kind": reason_slug, "pk": pk}),
                    {"reason": "Memeriksa berkas untuk kasus ini"})
    return client.get(url)


def photo(name):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 40, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue())


def expected(allowed: set[str], party: str) -> int:
    if party == "anonymous":
        return 302
    return 200 if party in allowed else 404


# --- refund requests, their documents and the refund account, per case --------------------------

# file name on the page → (document kind, who records it)
FILES = {
    "bukti-bayar.jpg": ("proof_of_payment", "buyer"),
    "mutasi-rekening.pdf": ("bank_statement", "buyer"),
    "resi-retur.jpg": ("return_receipt", "buyer"),
    "hasil-inspeksi.pdf": ("inspection_result", "officer"),
}
PAYMENT_PROOF = {"proof_of_payment", "bank_statement"}
RMA = "RMA-2026-0077"


def files_allowed(kind: str, case: str) -> set[str]:
    """The decision, written out: payment proof is the buyer's and finance's, always; the other
    documents of the buyer's own money too; the documents of a deal's refund are both parties' and
    the staff roles'."""
    if kind in PAYMENT_PROOF or case in BUYERS_OWN_MONEY:
        return {"buyer", "finance"}
    return {"buyer", "seller"} | STAFF_ROLES


@pytest.fixture
def refund_case(people):
    """A verified transaction with a refund request of ``case``, every kind of document (two of
    them the buyer's payment proof) and the buyer's refund account chosen."""

    def make(case):
        buyer, seller = people["buyer"], people["seller"]
        txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
        request = refund_services.refund_request_create(escrow_transaction=txn, case=case, amount=150_000,
                                                        source_key=f"test:{case}", description="Kronologi")
        for name, (kind, who) in FILES.items():
            upload = SimpleUploadedFile(name, pdf_bytes()) if name.endswith(".pdf") else photo(name)
            refund_services.refund_document_add(refund_request=request, kind=kind, actor=people[who], upload=upload)
        # INTRASA issues the RMA number (refunds.policy.STAFF_DOCUMENTS): staff record it.
        refund_services.refund_document_add(refund_request=request, kind="rma_number", actor=people["officer"],
                                            value=RMA)
        account = verified_bank(buyer, number="5550001234")
        refund_services.refund_choose_destination(refund_request=request, buyer=buyer, destination=account)
        return txn, request

    return make


@pytest.mark.parametrize("case", RefundCase.values)
def test_refund_documents_and_account_by_case_and_party(client, people, refund_case, case):
    txn, request = refund_case(case)
    documents = {doc.original_name: doc for doc in RefundDocument.objects.filter(request=request).exclude(file="")}
    assert set(documents) == set(FILES)
    wrong = []
    for party in PARTIES:
        as_party(client, people, party)
        # Every file, downloaded directly.
        for name, doc in documents.items():
            status = fetch_file(client, people, party, doc.get_absolute_url(), reason_slug="dokumen",
                                pk=doc.pk).status_code
            want = expected(files_allowed(doc.kind, case), party)
            if status != want:
                wrong.append(f"{party} GET {name} ({doc.kind}): {status}, expected {want}")
        # The refund page: only the parties have one; each sees what is theirs to see.
        page = client.get(reverse("refunds:detail", kwargs={"reference": txn.reference}))
        want = expected({"buyer", "seller"}, party)
        if page.status_code != want:
            wrong.append(f"{party} refund page: {page.status_code}, expected {want}")
            continue
        if want != 200:
            continue
        html = page.content.decode()
        sees_request = 'data-testid="refund-request"' in html
        if sees_request != (party == "buyer" or case not in BUYERS_OWN_MONEY):
            wrong.append(f"{party} sees the request: {sees_request}")
        for name, (kind, _who) in FILES.items():
            shown = name in html
            if shown != (party in files_allowed(kind, case)):
                wrong.append(f"{party} refund page lists {name}: {shown}")
        if (RMA in html) != (party in files_allowed("rma_number", case)):
            wrong.append(f"{party} refund page shows the RMA number: {RMA in html}")
        account_shown = 'data-testid="refund-destination"' in html or "1234 a.n." in html
        if account_shown != (party == "buyer"):
            wrong.append(f"{party} sees the buyer's refund account: {account_shown}")
        # The transaction page's dispute/refund card.
        card = client.get(txn.get_absolute_url()).content.decode()
        listed = str(RefundCase(case).label) in card
        if listed != (party == "buyer" or case not in BUYERS_OWN_MONEY):
            wrong.append(f"{party} transaction page lists the refund: {listed}")
    assert not wrong, "\n".join(wrong)


def test_the_refund_admin_shows_the_account_and_payment_proof_to_finance_only(client, people, refund_case):
    _txn, request = refund_case(RefundCase.NOT_RECEIVED)
    url = reverse("admin:refunds_refundrequest_change", args=[request.pk])
    proof = RefundDocument.objects.get(request=request, kind="bank_statement")
    inspection = RefundDocument.objects.get(request=request, kind="inspection_result")
    for party, sees_money_details in (("finance", True), ("officer", False), ("customer_service", False)):
        html = as_party(client, people, party).get(url).content.decode()
        assert (proof.get_absolute_url() in html) == sees_money_details, party
        assert ("1234 a.n." in html) == sees_money_details, party
        assert inspection.get_absolute_url() in html, party  # the case's own documents: every role


# --- dispute evidence -----------------------------------------------------------------------------

def test_dispute_evidence_by_party(client, people, disputed):
    dispute = disputed()
    dispute_services.dispute_post_message(dispute=dispute, author=people["buyer"], body="foto", upload=photo("a.jpg"))
    dispute_services.dispute_post_message(dispute=dispute, author=people["seller"], body="foto", upload=photo("b.jpg"))
    allowed = {"buyer", "seller"} | STAFF_ROLES  # the dispute is argued in the open
    wrong = []
    for evidence in Evidence.objects.all():
        for party in PARTIES:
            as_party(client, people, party)
            status = fetch_file(client, people, party, evidence.get_absolute_url(), reason_slug="bukti",
                                pk=evidence.pk).status_code
            if status != expected(allowed, party):
                wrong.append(f"{party} GET evidence of {evidence.role}: {status}")
    assert not wrong, "\n".join(wrong)


# --- PDFs and the ledger lines in them -------------------------------------------------------------

LINE_OF_BUYERS_MONEY = "Payment owed back to the buyer"  # EntryKind.PAYMENT_UNMATCHED, in English
STATEMENT_OF_BUYERS_MONEY = "Being refunded to the buyer"  # the same money in the parties' statement


@pytest.fixture
def confirmed_with_double_payment(people):
    """A confirmed transaction (released to the seller) that the buyer also paid a second time."""
    buyer, seller = people["buyer"], people["seller"]
    for person in people.values():
        if person is not None:
            person.preferred_language = "en"
            person.save(update_fields=["preferred_language"])
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTDOUBLE0009",
                               amount=txn.amount_due, status=Bill.Status.VERIFIED, flag=Bill.Flag.DOUBLE,
                               expires_at=txn.created_at, paid_amount=txn.amount_due)
    with db_transaction.atomic():
        entry_post(idempotency_key="test-double-9", kind=EntryKind.PAYMENT_UNMATCHED, memo="double",
                   escrow_transaction=txn, lines=[debit(AccountCategory.PROVIDER_CLEARING, txn.amount_due),
                                                  credit(AccountCategory.BUYER_REFUND_PAYABLE, txn.amount_due)])
        refund_request_for_owed_payment(escrow_transaction=txn, bill=bill, amount=txn.amount_due, why="double")
    assert RefundRequest.objects.get().case == RefundCase.DOUBLE_PAYMENT
    return txn


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


DOCUMENTS = {
    "kuitansi": {"buyer"} | STAFF_ROLES,
    "laporan-pencairan": {"seller"} | STAFF_ROLES,
    "kuitansi-pengembalian": {"buyer"} | STAFF_ROLES,
}


def test_pdfs_by_party_and_the_buyers_own_money_stays_off_the_sellers_pages(client, people,
                                                                           confirmed_with_double_payment):
    txn = confirmed_with_double_payment
    wrong, texts = [], {}
    for slug, allowed in DOCUMENTS.items():
        url = reverse("documents:download", kwargs={"reference": txn.reference, "kind": slug})
        for party in PARTIES:
            response = as_party(client, people, party).get(url)
            if response.status_code != expected(allowed, party):
                wrong.append(f"{party} GET {slug}: {response.status_code}")
            elif response.status_code == 200 and party in ("buyer", "seller", "customer_service"):
                texts[slug, party] = pdf_text(response)
    assert not wrong, "\n".join(wrong)
    # The seller's payout statement shows the deal, not the buyer's second payment. The parties read
    # a plain money statement (issue 17), staff the ledger lines.
    assert "Paid by the buyer" in texts["laporan-pencairan", "seller"]
    assert STATEMENT_OF_BUYERS_MONEY not in texts["laporan-pencairan", "seller"]
    assert LINE_OF_BUYERS_MONEY not in texts["laporan-pencairan", "seller"]
    assert STATEMENT_OF_BUYERS_MONEY in texts["kuitansi", "buyer"]
    assert LINE_OF_BUYERS_MONEY in texts["laporan-pencairan", "customer_service"]  # staff see every line
    assert "Debit" not in texts["kuitansi", "buyer"] and "Debit" in texts["laporan-pencairan", "customer_service"]
    # The same on the transaction page.
    seller_page = as_party(client, people, "seller").get(txn.get_absolute_url()).content.decode()
    buyer_page = as_party(client, people, "buyer").get(txn.get_absolute_url()).content.decode()
    assert 'data-testid="money-statement"' in seller_page and STATEMENT_OF_BUYERS_MONEY not in seller_page
    assert STATEMENT_OF_BUYERS_MONEY in buyer_page
    assert "Double or repeated payment" not in seller_page and "Double or repeated payment" in buyer_page


# --- INTRASA's bank statement lines ---------------------------------------------------------------

def test_bank_statement_lines_are_for_finance_only(client, people):
    url = reverse("admin:payments_bankstatementline_changelist")
    for party in PARTIES:
        response = as_party(client, people, party).get(url)
        if party == "finance":
            assert response.status_code == 200
        elif party in STAFF_ROLES | {"plain_staff"}:
            assert response.status_code == 403, party
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], party


def test_a_staff_permission_is_what_counts_not_the_staff_flag(client, people, confirmed_with_double_payment):
    """A staff account gets a document only through the permission its role grants."""
    txn = confirmed_with_double_payment
    url = reverse("documents:download", kwargs={"reference": txn.reference, "kind": "kuitansi"})
    plain = people["plain_staff"]
    as_party(client, people, "plain_staff")
    assert client.get(url).status_code == 404
    plain.user_permissions.add(Permission.objects.get(codename="view_escrowtransaction"))
    client.force_login(type(plain).objects.get(pk=plain.pk))
    assert client.get(url).status_code == 200
