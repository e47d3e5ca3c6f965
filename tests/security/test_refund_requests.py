"""A buyer's own refund requests (refund page): one open at a time, never more than was billed and
not already owed back, and two requests at the same moment answer cleanly (no IntegrityError)."""
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from payments.models import Bill
from refunds import services
from refunds.models import RefundRequest
from refunds.services import refund_request_for_owed_payment
from tests import scenarios
from transactions.models import Status


def ask(txn, buyer, amount, case="failed_payment"):
    return services.refund_request_submit(escrow_transaction=txn, buyer=buyer, case=case, amount=amount,
                                          description="Saldo terpotong, pembayaran gagal")


@pytest.mark.django_db
def test_a_request_cannot_exceed_what_was_billed(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with pytest.raises(services.RefundError) as refused:
        ask(txn, buyer, 1_000_000_001)
    assert refused.value.code == "over_limit"
    with pytest.raises(services.RefundError) as refused:
        ask(txn, buyer, txn.amount_due + 1)
    assert refused.value.code == "over_limit"
    assert not RefundRequest.objects.exists()
    assert ask(txn, buyer, txn.amount_due).amount == txn.amount_due


@pytest.mark.django_db
def test_one_open_request_at_a_time_and_a_rejected_one_frees_the_way(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    first = ask(txn, buyer, 100_000)
    with pytest.raises(services.RefundError) as refused:
        ask(txn, buyer, 50_000, case="double_payment")
    assert refused.value.code == "request_open"
    RefundRequest.objects.filter(pk=first.pk).update(status=RefundRequest.Status.REJECTED)
    assert ask(txn, buyer, 50_000).amount == 50_000
    assert RefundRequest.objects.count() == 2


@pytest.mark.django_db
def test_what_is_already_owed_back_for_a_payment_problem_is_taken_off(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTDOUBLE0001",
                               provider_trx_id="9990001", amount=txn.amount_due, status=Bill.Status.VERIFIED,
                               flag=Bill.Flag.DOUBLE, paid_amount=txn.amount_due, expires_at=txn.created_at)
    refund_request_for_owed_payment(escrow_transaction=txn, bill=bill, amount=txn.amount_due - 300_000,
                           why="double")
    with pytest.raises(services.RefundError) as refused:
        ask(txn, buyer, 300_001)
    assert refused.value.code == "over_limit" and "Rp 300.000" in refused.value.message
    ask(txn, buyer, 300_000)
    with pytest.raises(services.RefundError) as refused:
        ask(txn, buyer, 1)
    assert refused.value.code == "request_open"


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["1000000001", "9" * 19, "9" * 4301, "-5000", "15.000,50", "１５００００"])
def test_the_refund_page_refuses_bad_amounts_with_a_message(client, seller, buyer, amount):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(buyer)
    response = client.post(reverse("refunds:detail", kwargs={"reference": txn.reference}),
                           {"case": "failed_payment", "amount": amount, "description": "Terpotong"}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]
    assert not RefundRequest.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_parallel_requests_from_the_same_buyer_make_one_request(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    calls = 6
    barrier = threading.Barrier(calls)
    outcomes = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            ask(txn, buyer, 100_000)
            outcome = "ok"
        except services.RefundError as exc:
            outcome = exc.code
        except Exception as exc:  # the bug: IntegrityError on the request key
            outcome = type(exc).__name__
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] + ["request_open"] * (calls - 1)
    assert RefundRequest.objects.filter(escrow_transaction=txn).count() == 1
    call_command("ledger_check")
