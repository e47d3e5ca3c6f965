"""Steps the collection tests share: choose a method, re-read rows, make the poller look now, and
pay a bill whose notification never arrives."""
from django.utils import timezone

from escrow import tasks
from payments import services
from payments.models import Bill


def start(txn, buyer, channel):
    return services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code=channel)


def refresh(*objects):
    for obj in objects:
        obj.refresh_from_db()


def poll_now():
    Bill.objects.exclude(next_check_at=None).update(next_check_at=timezone.now())
    tasks.poll_pending_bills()


def pay_with_lost_notification(faspay, live_server, bill, amount=None):
    """The buyer pays ``bill`` at the sandbox (``amount`` other than the bill's, if given); the
    notification goes nowhere, and the poller finds the payment."""
    faspay("bill_notification_url", trx_id=bill.provider_trx_id, url=f"{live_server.url}/nowhere/")
    if amount is None:
        faspay("bill_pay", trx_id=bill.provider_trx_id)
    else:
        faspay("bill_pay_wrong_amount", trx_id=bill.provider_trx_id, amount=amount)
    poll_now()
