"""The API's reads cost a constant number of queries, however many rows a page holds."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.partners.conftest import post_json, terms


def _queries(client, setup, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, **setup.headers()).status_code == 200
    return len(captured.captured_queries)


def test_list_and_detail_cost_the_same_with_more_rows(client, setup, settings):
    settings.INTRASA_INVITATIONS_PER_DAY = 50
    post_json(client, "/api/v1/transactions", terms(setup), setup, key="k-0")
    one_list = _queries(client, setup, "/api/v1/transactions")
    reference = client.get("/api/v1/transactions", **setup.headers()).json()["items"][0]["reference"]
    one_timeline = _queries(client, setup, f"/api/v1/transactions/{reference}/timeline")
    for n in range(1, 8):
        post_json(client, "/api/v1/transactions", terms(setup, title=f"Barang {n}"), setup, key=f"k-{n}")
    post_json(client, f"/api/v1/transactions/{reference}/cancel", {"reason": "stok habis"}, setup, key="c")
    assert _queries(client, setup, "/api/v1/transactions") == one_list
    assert _queries(client, setup, f"/api/v1/transactions/{reference}/timeline") == one_timeline
    assert one_list <= 4, one_list  # the key, its last use, the page (the rate limit is Redis)


def test_refunded_rows_cost_no_query_each(client, setup, settings, buyer):
    """A refunded transaction's label reads the refund still owed: the page brings it for every row
    at once (once a ledger query per refunded row)."""
    from escrow import services as escrow_services
    from tests import scenarios
    from transactions.models import REFUND_IN_PROGRESS, EscrowTransaction, Status

    settings.INTRASA_INVITATIONS_PER_DAY = 50
    for n in range(4):
        post_json(client, "/api/v1/transactions", terms(setup, title=f"Barang {n}", buyer_email=buyer.email),
                  setup, key=f"r-{n}")
    txns = list(EscrowTransaction.objects.order_by("pk"))

    def refund(txn):
        txn = scenarios.advance(txn, buyer, Status.VERIFIED)
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=txn.seller, reason="Stok habis")

    refund(txns[0])
    one_refunded = _queries(client, setup, "/api/v1/transactions")
    for txn in txns[1:]:
        refund(txn)
    assert _queries(client, setup, "/api/v1/transactions") == one_refunded
    items = client.get("/api/v1/transactions", **setup.headers()).json()["items"]
    assert {item["status"] for item in items} == {"refunded"}
    # The refund has not reached the buyer yet (no transfer was made): the label says so, from the annotation.
    assert {item["status_label"] for item in items} == {str(REFUND_IN_PROGRESS)}
