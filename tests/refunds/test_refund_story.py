"""One refund story everywhere (issue: refund by the original method, per channel): the public refund
policy page, the buyer's refund page and the refund receipt PDF say, in both languages, exactly what
``refunds.policy.refund_routes_table`` and ``transfer_window`` say about where the money goes and
when — and none of them promises the original or "the same" payment method."""
import html
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from escrow import services as escrow_services
from refunds import policy
from refunds.models import RefundRequest
from tests import scenarios
from tests.documents.test_pdfs import pdf_text
from transactions.models import Status

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr data-refund-route><td>(.*?)</td><td>(.*?)<br><span class="muted">(.*?)</span></td>'
                 r'<td data-refund-window>(.*?)</td></tr>', re.S)
# Sentences that would promise the money back on the payment method itself (English source texts
# and their Indonesian translations, past and present).
FALSE_PROMISES = (
    "returned to the same payment method", "goes back to the original payment method",
    "reaches the buyer's original payment method", "Transfer to the original payment method",
    "cannot send money back to the original payment",
    "metode pembayaran yang sama", "dikirim ke metode pembayaran awal", "diterima di metode pembayaran awal",
    "Transfer ke metode pembayaran awal", "diproses ke metode pembayaran awal",
)
WORKING_DAYS = {"en": "working days", "id": "hari kerja"}


def _expected(language: str) -> list[tuple[str, str, str, str]]:
    with translation.override(language):
        return [(method, route, why, f"{low}–{high} {WORKING_DAYS[language]}")
                for method, route, why, (low, high) in policy.refund_routes_table()]


def _rows(page: str) -> list[tuple[str, ...]]:
    return [tuple(html.unescape(cell).strip() for cell in row) for row in ROW.findall(page)]


def _no_false_promise(text: str) -> None:
    for phrase in FALSE_PROMISES:
        assert phrase not in text, phrase


@pytest.fixture
def cancelled(seller, buyer):
    """Paid, then cancelled by the seller (out of stock): everything held is owed back to the buyer."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    return RefundRequest.objects.get(escrow_transaction=txn)


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_policy_page_refund_page_and_receipt_tell_one_refund_story(client, buyer, cancelled, language):
    expected = _expected(language)
    assert {family for family in policy.METHODS_OFFERED} <= set(policy.FASPAY_REFUND_DOCS)
    assert all(policy.refund_route(f) == policy.Route.SENDME_OWN_ACCOUNT for f in policy.METHODS_OFFERED)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    buyer.preferred_language = language
    buyer.save()

    policy_page = client.get(reverse("pages:refund_policy")).content.decode()
    assert _rows(policy_page) == expected
    _no_false_promise(html.unescape(policy_page))

    client.force_login(buyer)
    txn = cancelled.escrow_transaction
    refund_page = client.get(reverse("refunds:detail", args=[txn.reference])).content.decode()
    assert _rows(refund_page) == expected
    low, high = policy.transfer_window(cancelled.payment_family)
    method = re.search(r'data-testid="refund-method">(.*?)</dd>', refund_page, re.S).group(1)
    with translation.override(language):
        assert str(policy.PaymentFamily(cancelled.payment_family).label) in html.unescape(method)
    assert f"{low}–{high}" in method
    _no_false_promise(html.unescape(refund_page))

    receipt = pdf_text(client.get(reverse("documents:download",
                                          kwargs={"reference": txn.reference, "kind": "kuitansi-pengembalian"})))
    for row in expected:
        for cell in row:
            assert cell in receipt, cell
    _no_false_promise(receipt)


def test_the_catalogue_promises_the_same_method_nowhere_it_is_used():
    """Every Indonesian text still in use says where the money really goes: the false sentences left in
    the catalogue belong to no template or code any more."""
    from pathlib import Path

    sources = "\n".join(path.read_text(encoding="utf-8")
                        for folder in ("templates", "refunds", "notifications", "pages", "documents")
                        for path in Path(settings.BASE_DIR, folder).rglob("*")
                        if path.suffix in (".html", ".py", ".txt"))
    for phrase in FALSE_PROMISES[:5]:
        assert phrase not in sources, phrase
