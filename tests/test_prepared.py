"""``intrasa.prepared``: a read compiled once gives what the ORM gives for the same queryset, in one
query, with each call's values."""
import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Exists, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.test.utils import CaptureQueriesContext

from intrasa.prepared import Prepared
from notifications.models import Notification
from notifications.services import notify
from tests import scenarios
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def _transaction_page(*, user_pk: int, reference: str):
    """The shape of the transaction page's read: three joined models, a nullable one, a reverse
    one-to-one, two EXISTS and a COUNT that read the placeholders."""
    unread = (Notification.objects.filter(recipient_id=user_pk, read_at__isnull=True).order_by()
              .values(count=Func("pk", function="COUNT")))
    payouts = EscrowTransaction._meta.get_field("payouts").related_model
    return (EscrowTransaction.objects.select_related("seller", "buyer", "dispute")
            .annotate(has_payouts=Exists(payouts.objects.filter(escrow_transaction=OuterRef("pk"),
                                                                recipient_id=user_pk)),
                      unread=Subquery(unread, output_field=IntegerField()))
            .filter(reference=reference))


PAGE = Prepared(_transaction_page, user_pk=int, reference=str)


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_same_objects_as_the_orm_with_each_calls_values(seller, buyer):
    invited = scenarios.create(seller, buyer)  # no buyer yet: a null join
    disputed = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    scenarios.open_dispute(disputed, buyer)
    for txn in (invited, disputed):
        for user in (seller, buyer):
            [expected] = _transaction_page(user_pk=user.pk, reference=txn.reference)
            with CaptureQueriesContext(connection) as captured:
                [got] = PAGE.rows(user_pk=user.pk, reference=txn.reference)
                assert _fields(got) == _fields(expected)
                assert (got.has_payouts, got.unread) == (expected.has_payouts, expected.unread)
                assert _fields(got.seller) == _fields(expected.seller)
                assert (got.buyer and _fields(got.buyer)) == (expected.buyer and _fields(expected.buyer))
                try:
                    dispute = _fields(got.dispute)
                except ObjectDoesNotExist:
                    dispute = None
                assert (dispute is None) == (txn is invited)
                assert dispute is None or dispute == _fields(expected.dispute)
                assert got._state.adding is False and got._state.db == expected._state.db
            assert len(captured) == 1, captured.captured_queries  # the related rows came with it
    assert PAGE.rows(user_pk=seller.pk, reference="INT-NONE-NONE-NONE") == []


def test_the_unread_count_is_the_callers(seller, buyer):
    txn = scenarios.create(seller, buyer)
    Notification.objects.filter(recipient=seller).delete()
    notify(event_key="prepared:1", kind="shipping_reminder", recipient=seller,
           context={"reference": txn.reference, "title": txn.title, "deadline": "besok"})
    counts = {user.pk: Notification.objects.filter(recipient=user, read_at__isnull=True).count()
              for user in (seller, buyer)}
    assert counts[seller.pk] == 1
    for pk, count in counts.items():
        [got] = PAGE.rows(user_pk=pk, reference=txn.reference)
        assert got.unread == count


def test_a_placeholder_the_statement_does_not_use_is_refused():
    unused = Prepared(lambda *, reference, user_pk: EscrowTransaction.objects.filter(reference=reference),
                      reference=str, user_pk=int)
    with pytest.raises(ValueError, match="user_pk"):
        unused.rows(reference="INT-NONE-NONE-NONE", user_pk=1)


def test_only_model_rows_are_prepared():
    values = Prepared(lambda *, reference: EscrowTransaction.objects.filter(reference=reference).values("pk"),
                      reference=str)
    with pytest.raises(TypeError):
        values.rows(reference="INT-NONE-NONE-NONE")


def test_a_queryset_that_reads_its_rows_its_own_way_is_not_bypassed():
    class Logged(QuerySet):
        def _fetch_all(self):
            super()._fetch_all()

    logged = Prepared(lambda *, reference: Logged(EscrowTransaction).filter(reference=reference), reference=str)
    with pytest.raises(TypeError, match="Logged"):
        logged.rows(reference="INT-NONE-NONE-NONE")
