"""PDF rendering (about 0.75 s of CPU each) is done once per document state and limited per user:
a repeated download comes from the cache, a transition never serves the old document, and a user
who keeps forcing new renderings is told to wait (429) while cached documents stay available."""
import io
import re
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from pypdf import PdfReader

import documents.rendering
from intrasa.ratelimit import RateLimit
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from tests import scenarios
from tests.factories import StaffFactory
from transactions import services as txn_services
from transactions.models import Status

pytestmark = pytest.mark.django_db


def url(txn, kind="kuitansi"):
    return reverse("documents:download", kwargs={"reference": txn.reference, "kind": kind})


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def renders():
    """Counts the real WeasyPrint renderings."""
    with mock.patch.object(documents.rendering, "html_to_pdf", wraps=documents.rendering.html_to_pdf) as spy:
        yield spy


@pytest.fixture
def english(buyer, seller):
    for person in (buyer, seller):
        person.preferred_language = "en"
        person.save(update_fields=["preferred_language"])


def test_a_repeated_download_is_served_from_the_cache(client, seller, buyer, english, renders):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(buyer)
    first = client.get(url(txn))
    second = client.get(url(txn))
    assert first.content == second.content and renders.call_count == 1
    assert first["Content-Type"] == "application/pdf"


def test_no_stale_document_after_a_transition_or_any_change_it_shows(client, seller, buyer, english, renders):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    client.force_login(buyer)
    assert "NOT PAID YET" in text_of(client.get(url(txn)))
    txn = scenarios.advance(txn, buyer, Status.VERIFIED)  # paid and verified
    text = text_of(client.get(url(txn)))
    assert "PAID · HELD IN ESCROW" in text and "NOT PAID YET" not in text
    txn = scenarios.advance(txn, buyer, Status.SHIPPED)
    assert "Shipped" in text_of(client.get(url(txn)))
    # A change that is not a transition: the party's name.
    buyer.full_name = "Budi Santoso Wijaya"
    buyer.save(update_fields=["full_name"])
    assert "Budi Santoso Wijaya" in text_of(client.get(url(txn)))
    # The reader's language.
    buyer.preferred_language = "id"
    buyer.save(update_fields=["preferred_language"])
    assert "Bukti pembayaran" in text_of(client.get(url(txn)))
    assert renders.call_count == 5


def test_a_new_ledger_line_changes_the_payout_statement(client, seller, buyer, english, renders):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    client.force_login(seller)
    # The seller's money statement (issue 17: no ledger lines for the parties) follows the ledger.
    assert "Paid out to the seller" not in text_of(client.get(url(txn, "laporan-pencairan")))
    entry_post(idempotency_key=f"test-payout:{txn.pk}", kind=EntryKind.PAYOUT, memo="payout", escrow_transaction=txn,
               lines=[debit(AccountCategory.SELLER_PAYABLE, 1_000_000), credit(AccountCategory.SENDME_DEPOSIT, 1_000_000)])
    assert "Paid out to the seller" in text_of(client.get(url(txn, "laporan-pencairan")))


def test_readers_with_different_views_never_share_a_cached_document(client, seller, buyer, english):
    """Staff see every ledger line, the seller not the buyer's own money: one cache entry each."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    entry_post(idempotency_key=f"test-double:{txn.pk}", kind=EntryKind.PAYMENT_UNMATCHED, memo="double",
               escrow_transaction=txn, lines=[debit(AccountCategory.PROVIDER_CLEARING, 50_000),
                                              credit(AccountCategory.BUYER_REFUND_PAYABLE, 50_000)])
    staff = StaffFactory(email="ops@intrasa.co.id", preferred_language="en")
    staff.user_permissions.add(Permission.objects.get(codename="view_escrowtransaction"))
    client.force_login(staff)
    assert "Payment owed back to the buyer" in text_of(client.get(url(txn, "laporan-pencairan")))
    client.force_login(seller)
    assert "Payment owed back to the buyer" not in text_of(client.get(url(txn, "laporan-pencairan")))


def test_renders_are_limited_per_user_and_cached_documents_stay_available(client, seller, buyer, english,
                                                                          monkeypatch):
    monkeypatch.setattr(documents.rendering, "RENDERS_PER_USER", RateLimit("test-document-render", 2, 600))
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(buyer)
    assert client.get(url(txn)).status_code == 200  # rendering 1 (English)
    buyer.preferred_language = "id"
    buyer.save(update_fields=["preferred_language"])
    assert client.get(url(txn)).status_code == 200  # rendering 2 (Bahasa Indonesia)
    assert client.get(url(txn)).status_code == 200  # cached: free
    txn_services.transaction_ship(escrow_transaction=txn, seller=seller, courier="jne", tracking_number="JNE01234567")
    refused = client.get(url(txn), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429 and 595 <= int(refused["Retry-After"]) <= 600
    assert 'data-testid="render-limit"' in refused.content.decode()
    # The limit is the buyer's alone: the seller still gets their document rendered.
    txn = scenarios.advance(txn, buyer, Status.CONFIRMED)
    client.force_login(seller)
    assert client.get(url(txn, "laporan-pencairan")).status_code == 200
