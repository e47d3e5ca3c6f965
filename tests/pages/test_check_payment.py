"""Anti-fraud: is this virtual account / payment code / reference a live INTRASA payment?"""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from intrasa import ratelimit as throttle
from payments.models import Bill
from tests import scenarios
from transactions import services
from transactions.models import Status

pytestmark = pytest.mark.django_db

PAGE = reverse("pages:check_payment")
VA = "8830012345678901"


@pytest.fixture
def live_bill(seller, buyer):
    """An accepted transaction with an open virtual-account bill (what payments.services creates)."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    return Bill.objects.create(
        escrow_transaction=txn, method="va", channel_code="702", bill_no=f"B{txn.pk}X1", amount=txn.amount_due,
        pay_code=VA, status=Bill.Status.PENDING, expires_at=timezone.now() + dt.timedelta(hours=24),
    )


def check(client, code, **extra):
    return client.get(PAGE, {"code": code}, **extra)


def test_a_live_virtual_account_is_confirmed_without_personal_data(client, live_bill):
    response = check(client, "8830 0123 4567 8901")  # as printed, with spaces
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["check"].outcome == "live_bill"
    assert 'data-testid="outcome-live"' in html
    assert "Rp\xa01.290.000" in html and "BCA Virtual Account" in html and "WIB" in html
    txn = live_bill.escrow_transaction
    assert txn.reference not in html  # only its last group, so a VA does not lead to the reference
    assert txn.reference[-4:] in html
    for value in (txn.seller.full_name, txn.seller.email, txn.buyer.full_name, txn.buyer.email, txn.title):
        assert value not in html


def test_an_unknown_number_is_rejected_clearly(client, live_bill):
    response = check(client, "8830099999999999", HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["check"].outcome == "not_found"
    html = response.content.decode()
    assert 'data-testid="outcome-not-found"' in html and "Do not pay" in html


@pytest.mark.parametrize("status,outcome,says_id,says_en", [
    (Bill.Status.PAID, "paid_bill", "Sudah dibayar", "Already paid"),
    (Bill.Status.VERIFIED, "paid_bill", "Sudah dibayar", "Already paid"),
    (Bill.Status.EXPIRED, "expired_bill", "sudah kedaluwarsa", "has expired"),
    (Bill.Status.CANCELLED, "closed_bill", "sudah ditutup", "has been closed"),
])
def test_a_number_that_takes_no_payment_any_more_says_why_and_never_cries_fraud(client, live_bill, status, outcome,
                                                                                 says_id, says_en):
    """A genuine number that was paid, ran out or was closed is not a fake: it never says "Do not pay"
    (the warning for numbers that are not INTRASA's), and it names what happened (issue 17)."""
    Bill.objects.filter(pk=live_bill.pk).update(status=status, paid_at=timezone.now())
    for language, says, fraud in (("id", says_id, "Jangan bayar"), ("en", says_en, "Do not pay")):
        response = check(client, VA, HTTP_ACCEPT_LANGUAGE=language)
        html = response.content.decode()
        assert response.context["check"].outcome == outcome
        assert says in html and fraud not in html
        assert live_bill.escrow_transaction.reference[-4:] in html


def test_a_pending_number_past_its_time_is_expired(client, live_bill):
    Bill.objects.filter(pk=live_bill.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert check(client, VA).context["check"].outcome == "expired_bill"


def test_a_failed_bill_is_not_a_payment_number(client, live_bill):
    Bill.objects.filter(pk=live_bill.pk).update(status=Bill.Status.FAILED)
    assert check(client, VA).context["check"].outcome == "not_found"


def test_a_reference_before_acceptance_waits_for_the_buyer(client, seller):
    txn = scenarios.create(seller)
    response = check(client, txn.reference)
    assert response.context["check"].status_label == "Menunggu persetujuan pembeli"
    assert "Menunggu pembayaran" not in response.content.decode()


def test_references_of_open_and_closed_transactions(client, seller, buyer, live_bill):
    assert check(client, live_bill.escrow_transaction.reference).context["check"].outcome == "live_transaction"
    closed = scenarios.create(seller, buyer)
    services.transaction_cancel(escrow_transaction=closed, actor=seller, reason="Salah harga")
    response = check(client, closed.reference.lower(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["check"].outcome == "closed_transaction"
    assert "Do not pay" in response.content.decode()


def test_a_mistyped_reference(client, live_bill):
    reference = live_bill.escrow_transaction.reference
    typo = reference[:-1] + ("2" if reference[-1] != "2" else "3")
    assert check(client, typo).context["check"].outcome == "mistyped"


def test_intrasas_own_escrow_account_is_recognised(client, settings):
    response = check(client, settings.INTRASA_ESCROW_BANK_ACCOUNT)
    assert response.context["check"].outcome == "escrow_account"
    assert settings.INTRASA_ESCROW_BANK_HOLDER in response.content.decode()


def test_one_query_per_check(client, live_bill, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        check(client, VA)


def test_guessing_numbers_is_rate_limited(client, live_bill):
    for n in range(throttle.PUBLIC_UNKNOWN.limit):
        assert check(client, f"88300999999{n:05d}").status_code == 200
    response = check(client, VA, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429 and "Too many look-ups" in response.content.decode()
    assert "check" not in response.context  # the real VA is not answered either


def test_checks_share_the_lookup_budget_with_cek_transaksi(client, live_bill):
    for _ in range(throttle.PUBLIC_LOOKUPS.limit):
        check(client, VA)
    assert check(client, VA).status_code == 429
    reference = live_bill.escrow_transaction.reference
    assert client.get(reverse("pages:check_transaction"), {"reference": reference}).status_code == 429
