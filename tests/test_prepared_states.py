"""The four reads compiled once (``intrasa.prepared``) give the plain ORM's objects for transactions in
every state, for each party and for a stranger: every attribute, ``_state``, deferred fields, related
caches two levels down and the page's annotations."""
import pytest
from django.db.models import Model
from django.http import Http404

from ledger import selectors as ls
from refunds import selectors as rs
from refunds.models import RefundRequest
from tests import scenarios
from transactions import selectors as ts
from transactions.models import Status

pytestmark = pytest.mark.django_db


def _state(obj, depth=0):
    if not isinstance(obj, Model):
        return obj
    if depth > 1:
        return (type(obj), obj.pk)
    d = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    d["_db"], d["_adding"] = obj._state.db, obj._state.adding
    d["_cache"] = {k: _state(v, depth + 1) for k, v in obj._state.fields_cache.items()
                   if k not in ("escrow_transaction",)}
    d["_deferred"] = obj.get_deferred_fields()
    return d


def test_the_compiled_reads_give_the_orms_objects_in_every_state(seller, buyer, stranger, dispute_officer):
    txns = [scenarios.create(seller, None), scenarios.create(seller, buyer)]
    for to in (Status.CREATED, Status.PAID, Status.VERIFIED, Status.SHIPPED, Status.CONFIRMED):
        txns.append(scenarios.advance(scenarios.create(seller, buyer), buyer, to))
    for outcome in ("refund", "release", "split", None):
        t = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
        d = scenarios.open_dispute(t, buyer)
        if outcome:
            scenarios.resolve_dispute(d, dispute_officer, outcome,
                                      buyer_amount=500_000 if outcome == "split" else None)
        txns.append(t)
    n_refunds = 0
    seen = set()
    for t in txns:
        for user in (seller, buyer, stranger):
            try:
                got = ts.transaction_detail_for_party(user=user, reference=t.reference)
            except Http404:
                got = None
            expected = ts._detail_for_party(user_pk=user.pk, reference=t.reference).first()
            if expected is not None and user.pk not in (expected.seller_id, expected.buyer_id):
                expected = None
            assert (got is None) == (expected is None)
            if got is not None:
                for a in ("refund_requests_exist", "viewer_payouts_exist", "viewer_unread_notifications"):
                    assert getattr(got, a) == getattr(expected, a), a
                assert _state(got) == _state(expected)
                seen.update(a for a in ("refund_requests_exist", "viewer_payouts_exist")
                            if getattr(got, a))
                seen.update(["unread"] if got.viewer_unread_notifications else [])
                seen.update(["dispute"] if got._state.fields_cache.get("dispute") else [])
        got = ts.transaction_timeline(escrow_transaction=t)
        exp = list(t.events.order_by("created_at", "id"))
        assert [_state(e) for e in got] == [_state(e) for e in exp]
        got = ls.transaction_money_lines(escrow_transaction=t)
        exp = list(ls.transaction_postings(escrow_transaction=t).only(*ls.MONEY_LINE_FIELDS))
        assert [_state(e) for e in got] == [_state(e) for e in exp]
        got = rs.refund_requests_on_transaction_page(escrow_transaction=t)
        exp = list(RefundRequest.objects.filter(escrow_transaction=t).select_related("return_shipment").order_by("created_at"))
        n_refunds += len(exp)
        assert [_state(e) for e in got] == [_state(e) for e in exp]
    assert n_refunds >= 2
    assert seen == {"refund_requests_exist", "viewer_payouts_exist", "unread", "dispute"}
