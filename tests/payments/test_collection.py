"""Collecting the buyer's money through the Faspay sandbox, end to end over real HTTP."""
import concurrent.futures
import datetime as dt

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from escrow import services as escrow_services
from escrow import tasks as escrow_tasks
from faspay import signing
from ledger.models import AccountCategory, JournalEntry
from ledger.selectors import transaction_balances
from notifications.models import Notification
from payments.models import Bill, ProviderNotification
from transactions.models import Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario():
    yield
    call_command("ledger_check")


from .steps import refresh, start  # noqa: E402


@pytest.mark.parametrize("channel", ["702", "800", "801", "802", "402", "706", "707", "711", "715"])
def test_each_channel_end_to_end(faspay, accepted, buyer, seller, channel):
    bill = start(accepted, buyer, channel)
    assert bill.status == Bill.Status.PENDING and bill.provider_trx_id
    assert (bill.qr_content != "") == (channel in ("711", "715"))
    faspay("bill_pay", trx_id=bill.provider_trx_id)  # the sandbox notifies; we inquire; verified
    refresh(bill, accepted)
    assert bill.status == Bill.Status.VERIFIED and bill.flag == ""
    assert accepted.status == Status.VERIFIED
    assert transaction_balances(escrow_transaction=accepted) == {AccountCategory.ESCROW_HOLD: accepted.amount_due}
    assert bill.settlement_expected_at is not None
    assert Notification.objects.filter(kind="payment_verified_seller", recipient=seller).count() == 1


def test_payment_page_shows_instructions_and_the_qr_is_ours(faspay, client, accepted, buyer):
    client.force_login(buyer)
    response = client.post(reverse("payments:pay", args=[accepted.reference]), {"channel": "711"})
    assert response.status_code == 302
    page = client.get(reverse("payments:pay", args=[accepted.reference])).content.decode()
    qr_block = page.split('data-testid="qr"')[1].split("</div>")[0]
    assert "<svg" in qr_block and "<img" not in qr_block and "src=" not in qr_block  # drawn by us
    assert "WIB" in page and "Rp\xa01.290.000" in page
    client.post(reverse("payments:pay", args=[accepted.reference]), {"channel": "702"})
    page = client.get(reverse("payments:pay", args=[accepted.reference])).content.decode()
    bill = Bill.objects.get(status=Bill.Status.PENDING)
    assert bill.pay_code in page and "BCA" in page


def test_switching_method_cancels_the_old_bill_at_faspay(faspay, accepted, buyer):
    first = start(accepted, buyer, "702")
    second = start(accepted, buyer, "800")
    refresh(first)
    assert first.status == Bill.Status.CANCELLED and second.status == Bill.Status.PENDING
    state = faspay.state()
    sandbox_bill = next(b for b in state["bills"] if b["trx_id"] == first.provider_trx_id)
    assert sandbox_bill["status"] == "8"  # cancelled at Faspay
    again = start(accepted, buyer, "800")
    assert again.pk == second.pk  # the same method again shows the same bill


def test_the_same_notification_fifty_times_concurrently(faspay, live_server, accepted, buyer, seller, settings):
    bill = start(accepted, buyer, "702")
    faspay("bill_notification_url", trx_id=bill.provider_trx_id, url=f"{live_server.url}/nowhere/")
    faspay("bill_pay", trx_id=bill.provider_trx_id)  # paid at the sandbox; its notification is lost
    payload = {
        "request": "Payment Notification", "trx_id": bill.provider_trx_id, "merchant_id": settings.FASPAY_MERCHANT_ID,
        "merchant": settings.FASPAY_MERCHANT_NAME, "bill_no": bill.bill_no, "payment_reff": "REF123",
        "payment_date": "2026-11-23 10:00:00", "payment_status_code": "2", "payment_status_desc": "Payment Success",
        "bill_total": str(bill.amount), "payment_total": str(bill.amount), "payment_channel_uid": "702",
        "payment_channel": "BCA Virtual Account",
        "signature": signing.debit_notification_signature(
            settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD, bill.bill_no, "2"),
    }
    url = live_server.url + reverse("escrow:faspay_notification")

    def deliver(_):
        with requests.Session() as session:
            return session.post(url, json=payload, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(deliver, range(50)))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["response_code"] for r in responses} == {"00"}
    refresh(accepted)
    assert accepted.status == Status.VERIFIED
    assert ProviderNotification.objects.get().deliveries == 50
    assert JournalEntry.objects.filter(kind="payment_verified").count() == 1
    assert accepted.events.filter(action="mark_paid").count() == 1
    assert Notification.objects.filter(kind="payment_verified_seller", recipient=seller).count() == 1


def test_lost_notification_is_found_by_polling(faspay, live_server, accepted, buyer, finance_officer):
    bill = start(accepted, buyer, "802")
    faspay("bill_notification_url", trx_id=bill.provider_trx_id, url=f"{live_server.url}/nowhere/")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    refresh(accepted)
    assert accepted.status == Status.CREATED
    assert escrow_tasks.poll_pending_bills() == 0  # not due yet: polled on a schedule
    Bill.objects.filter(pk=bill.pk).update(next_check_at=timezone.now())
    assert escrow_tasks.poll_pending_bills() == 1
    refresh(accepted, bill)
    # Found, but Faspay's status inquiry states no amount: the payment waits for one (it used to be
    # verified on the bill amount, which released money that may never have come).
    assert accepted.status == Status.PAID and bill.status == Bill.Status.PAID
    assert transaction_balances(escrow_transaction=accepted) == {}
    escrow_services.bill_record_provider_amount(bill_id=bill.pk, amount=bill.amount, actor=finance_officer,
                                         reason="Faspay transaction report")
    refresh(accepted, bill)
    assert accepted.status == Status.VERIFIED and bill.status == Bill.Status.VERIFIED


def test_expired_bill_expires_the_transaction(faspay, accepted, buyer):
    from transactions.tasks import expire_unpaid_transactions

    bill = start(accepted, buyer, "706")
    faspay("bill_expire", trx_id=bill.provider_trx_id)
    Bill.objects.filter(pk=bill.pk).update(next_check_at=timezone.now())
    escrow_tasks.poll_pending_bills()
    refresh(bill)
    assert bill.status == Bill.Status.EXPIRED
    type(accepted).objects.filter(pk=accepted.pk).update(payment_due_at=timezone.now() - dt.timedelta(seconds=1))
    expire_unpaid_transactions()
    refresh(accepted)
    assert accepted.status == Status.EXPIRED


def test_short_payment_is_never_released(faspay, accepted, buyer):
    bill = start(accepted, buyer, "702")
    faspay("bill_pay_wrong_amount", trx_id=bill.provider_trx_id, amount=bill.amount - 10_000)
    refresh(bill, accepted)
    assert bill.flag == Bill.Flag.SHORT
    assert accepted.status == Status.CREATED  # not verified; the buyer may pay the full amount again
    assert accepted.events.filter(action="reopen_for_payment").count() == 1
    balances = transaction_balances(escrow_transaction=accepted)
    assert balances.get(AccountCategory.ESCROW_HOLD, 0) == 0
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == bill.amount - 10_000
    assert Notification.objects.filter(kind="payment_short", recipient=buyer).count() == 1
    again = start(accepted, buyer, "800")  # a new, full bill
    assert again.status == Bill.Status.PENDING and again.amount == accepted.amount_due


def _page_text(client, user, txn) -> str:
    import re

    client.force_login(user)
    html = client.get(txn.get_absolute_url()).content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def test_after_a_short_payment_the_buyer_reads_it_comes_back_and_what_to_pay(faspay, in_english, accepted, buyer,
                                                                             seller):
    bill = start(accepted, buyer, "702")
    faspay("bill_pay_wrong_amount", trx_id=bill.provider_trx_id, amount=1_000_000)
    refresh(accepted)
    page = _page_text(in_english, buyer, accepted)
    assert ("Your earlier payment could not fund this transaction: Rp 1.000.000 is being returned to you, and the "
            "refund page says where it goes. To go on, pay the full Rp 1.290.000 before") in page
    # The timeline says it in the reader's words, not with the bill's internal codes.
    assert "Rp 1.000.000 arrived for a bill of Rp 1.290.000: too little to fund the transaction" in page
    assert "paid 1000000 of" not in page
    seller_page = _page_text(in_english, seller, accepted)  # the seller's next step is unchanged
    assert "Waiting for the buyer to pay before" in seller_page and "being returned to you" not in seller_page


def test_excess_payment_is_verified_and_the_rest_owed_back(faspay, in_english, accepted, buyer):
    bill = start(accepted, buyer, "800")
    faspay("bill_pay_wrong_amount", trx_id=bill.provider_trx_id, amount=bill.amount + 5_000)
    refresh(bill, accepted)
    assert accepted.status == Status.VERIFIED and bill.flag == Bill.Flag.EXCESS
    balances = transaction_balances(escrow_transaction=accepted)
    assert balances[AccountCategory.ESCROW_HOLD] == accepted.amount_due
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == 5_000
    page = _page_text(in_english, buyer, accepted)
    assert "Your payment is held by INTRASA." in page
    assert "INTRASA is returning Rp 5.000 to you: the refund page says where it goes and when." in page


def test_double_payment_after_switching_is_owed_back(faspay, accepted, buyer):
    first = start(accepted, buyer, "702")
    faspay("fault", kind="http_500", scope="debit.cancel", count=1)  # the cancel does not reach Faspay
    second = start(accepted, buyer, "800")
    faspay("bill_pay", trx_id=second.provider_trx_id)
    faspay("bill_pay", trx_id=first.provider_trx_id)  # the old VA is paid too
    refresh(first, second, accepted)
    assert accepted.status == Status.VERIFIED
    assert second.flag == "" and first.flag == Bill.Flag.DOUBLE
    balances = transaction_balances(escrow_transaction=accepted)
    assert balances[AccountCategory.ESCROW_HOLD] == accepted.amount_due
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == first.amount
    assert Notification.objects.filter(kind="payment_double").count() == 1


@pytest.mark.parametrize("change,status,code", [
    ({"signature": "0" * 40}, 400, "55"),
    ({"bill_no": "INTUNKNOWN001"}, 400, "55"),  # the signature covers bill_no
    ({"merchant_id": "12345"}, 400, "03"),
    ({"payment_status_code": ""}, 400, "30"),
])
def test_forged_or_malformed_notifications_change_nothing(faspay, live_server, accepted, buyer, settings,
                                                          change, status, code):
    bill = start(accepted, buyer, "702")
    payload = {"trx_id": bill.provider_trx_id, "merchant_id": settings.FASPAY_MERCHANT_ID, "bill_no": bill.bill_no,
               "payment_status_code": "2", "payment_total": str(bill.amount),
               "signature": signing.debit_notification_signature(
                   settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD, bill.bill_no, "2")}
    response = requests.post(live_server.url + reverse("escrow:faspay_notification"), json={**payload, **change},
                             timeout=10)
    assert response.status_code == status and response.json()["response_code"] == code
    refresh(accepted, bill)
    assert accepted.status == Status.CREATED and bill.status == Bill.Status.PENDING
    assert not ProviderNotification.objects.exists()


def test_unknown_bill_with_a_valid_signature_is_404(faspay, live_server, settings):
    payload = {"trx_id": "1", "merchant_id": settings.FASPAY_MERCHANT_ID, "bill_no": "INTNOSUCHBILL01",
               "payment_status_code": "2", "signature": signing.debit_notification_signature(
                   settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD, "INTNOSUCHBILL01", "2")}
    response = requests.post(live_server.url + reverse("escrow:faspay_notification"), json=payload, timeout=10)
    assert response.status_code == 404 and response.json()["response_code"] == "14"
    garbage = requests.post(live_server.url + reverse("escrow:faspay_notification"), data=b"<xml/>", timeout=10)
    assert garbage.status_code == 400


@pytest.mark.parametrize("kind", ["http_500", "timeout"])
def test_provider_down_while_creating_a_bill(faspay, client, accepted, buyer, settings, kind):
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 1
    faspay("fault", kind=kind, scope="debit.post", count=1, seconds=3)
    client.force_login(buyer)
    response = client.post(reverse("payments:pay", args=[accepted.reference]), {"channel": "702"}, follow=True)
    assert any("try again" in str(m) or "coba lagi" in str(m).lower() for m in response.context["messages"])
    # Faspay may have created the bill before failing to answer: it is not given up as failed
    # (which left a payable "ghost" bill outside the ledger), it waits for Faspay's answer.
    unanswered = Bill.objects.get()
    assert unanswered.status == Bill.Status.CREATING and unanswered.next_check_at is not None
    bill = start(accepted, buyer, "702")  # the buyer tries again: the same bill, re-posted
    assert bill.status == Bill.Status.PENDING and bill.pk == unanswered.pk


def test_only_the_buyer_can_open_the_payment_page(faspay, client, accepted, seller, stranger):
    for user in (seller, stranger):
        client.force_login(user)
        assert client.get(reverse("payments:pay", args=[accepted.reference])).status_code == 404
        assert client.post(reverse("payments:pay", args=[accepted.reference]), {"channel": "702"}).status_code == 404
    assert not Bill.objects.exists()


def _refund_card(client, buyer, txn) -> str:
    """The text of the buyer's refund card on the refund page, tags removed."""
    import re

    client.force_login(buyer)
    html = client.get(reverse("refunds:detail", args=[txn.reference])).content.decode()
    card = html.split('data-testid="refund-request"')[1].split("</section>")[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card)).replace("\xa0", " ")


def test_a_short_payment_refund_says_plainly_what_happened_in_both_languages(faspay, client, accepted, buyer,
                                                                            settings):
    """The seed files a short payment under "transaksi gagal namun terpotong"; the buyer reads what happened."""
    bill = start(accepted, buyer, "702")
    faspay("bill_pay_wrong_amount", trx_id=bill.provider_trx_id, amount=1_000_000)
    refresh(bill, accepted)
    assert bill.flag == Bill.Flag.SHORT
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = _refund_card(client, buyer, accepted)
    assert "Failed payment that was charged" in english  # the seed's category stays the heading
    assert ("You paid Rp 1.000.000, less than the Rp 1.290.000 due, so it could not fund the transaction. "
            "The Rp 1.000.000 you paid is refunded to you, to a bank account or e-wallet in your own name.") in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    indonesian = _refund_card(client, buyer, accepted)
    assert "Pembayaran gagal namun terpotong" in indonesian
    assert ("Anda membayar Rp 1.000.000, kurang dari tagihan Rp 1.290.000, sehingga pembayaran itu tidak dapat "
            "mendanai transaksi. Rp 1.000.000 yang Anda bayarkan dikembalikan kepada Anda, ke rekening bank atau "
            "e-wallet atas nama Anda sendiri.") in indonesian


def test_a_late_payment_refund_keeps_its_own_plain_words(faspay, client, accepted, buyer, settings):
    """Also filed under "failed but charged", a payment that arrived after the transaction closed is not
    told it was short: it says what happened to it."""
    from transactions import tasks as transaction_tasks

    bill = start(accepted, buyer, "702")
    type(accepted).objects.filter(pk=accepted.pk).update(payment_due_at=timezone.now() - dt.timedelta(minutes=1))
    assert transaction_tasks.expire_unpaid_transactions() == 1
    faspay("bill_pay", trx_id=bill.provider_trx_id)  # the provider still took it
    refresh(bill, accepted)
    assert bill.flag == Bill.Flag.LATE
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = _refund_card(client, buyer, accepted)
    assert "Failed payment that was charged" in english and "less than" not in english
    assert ("Your payment of Rp 1.290.000 arrived after the transaction had closed without payment, so it could not "
            "fund it. The full Rp 1.290.000 is refunded to you, to a bank account or e-wallet in your own name.") in english
    # Cek Transaksi: an expired transaction that owes a payment back shows when it reaches the buyer — the
    # same date as the refund page (``refunds.policy``: the refund-by date), never nothing.
    from refunds.selectors import refund_due_by

    client.logout()
    data = client.get(reverse("pages:check_transaction_api", args=[accepted.reference])).json()
    assert data["status"] == "expired" and data["next_due"]["step"] == "refund"
    assert dt.datetime.fromisoformat(data["next_due"]["at"]) == refund_due_by(escrow_transaction=accepted)
