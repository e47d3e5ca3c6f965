"""``intrasa.prepared``: what a statement compiled once must not do silently.

``Prepared`` promises the ORM's objects for each call's values, and to refuse a build whose
placeholders do not reach the statement as parameters. The stand-in values it compiles with are
found among the parameters by equality; these tests show where that is not enough."""
import pytest
from django.db.models import Q

from intrasa.prepared import Prepared
from tests import scenarios
from transactions.models import EscrowTransaction

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("change", [str.lower, str.strip, str.casefold], ids=["lower", "strip", "casefold"])
def test_a_placeholder_changed_before_it_reaches_the_statement_is_refused(seller, change):
    """The stand-in string is lower case with no blanks around it: ``lower()``, ``strip()`` and
    ``casefold()`` leave it as it is, so it is found, and each call's value is then sent *unchanged*
    (the ORM would have sent ``email.lower()``). A build that changes a value is refused, whatever
    the change does to the stand-in."""
    txn = scenarios.create(seller, None, buyer_email="calon.pembeli@example.co.id")
    by_email = Prepared(lambda *, email: EscrowTransaction.objects.filter(buyer_email=change(email)), email=str)
    typed = "  calon.pembeli@example.co.id " if change is str.strip else "Calon.Pembeli@Example.co.id"
    assert list(EscrowTransaction.objects.filter(buyer_email=change(typed))) == [txn]  # what the ORM finds
    with pytest.raises((TypeError, ValueError)):
        by_email.rows(email=typed)


def test_a_placeholder_used_as_is_and_changed_is_refused(seller, buyer):
    """Found once as it is, the placeholder passes a check by equality; its changed copy (here ``+ 1``)
    would keep the stand-in's value in every call, and the rows it should find would be silently lost.
    (A change that leaves both stand-ins as they are, such as ``abs`` of a positive key, is not seen; it
    changes no real key either.)"""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, "created")
    either = Prepared(lambda *, user_pk: EscrowTransaction.objects.filter(Q(seller_id=user_pk)
                                                                          | Q(buyer_id=user_pk + 1)),
                      user_pk=int)
    assert list(EscrowTransaction.objects.filter(Q(seller_id=buyer.pk - 1) | Q(buyer_id=buyer.pk))) == [txn]
    with pytest.raises((TypeError, ValueError)):
        either.rows(user_pk=buyer.pk - 1)


def test_a_value_of_another_type_than_declared_is_refused(seller):
    """``None`` would be ``= NULL`` here (no row), where the ORM says ``IS NULL``; an ``int`` for a
    ``str`` placeholder reaches PostgreSQL as an integer (``character varying = integer``: a 500)."""
    scenarios.create(seller, None)
    by_buyer = Prepared(lambda *, buyer_pk: EscrowTransaction.objects.filter(buyer_id=buyer_pk), buyer_pk=int)
    by_reference = Prepared(lambda *, reference: EscrowTransaction.objects.filter(reference=reference),
                            reference=str)
    assert EscrowTransaction.objects.filter(buyer_id=None).exists()
    with pytest.raises(TypeError):
        by_buyer.rows(buyer_pk=None)
    with pytest.raises(TypeError):
        by_reference.rows(reference=12345)


@pytest.mark.parametrize("lookup", ["exact", "lte", "gte"])
def test_an_int_placeholder_on_a_positive_field(seller, lookup):
    """The int stand-in is negative: Django compiles a negative value on a positive field away
    (``IntegerFieldOverflow``), so ``exact``/``lte`` raise ``EmptyResultSet`` on every call and
    ``gte`` is refused as "not among the statement's parameters", for a build the ORM runs."""
    txn = scenarios.create(seller, None, inspection_days=3)
    by_days = Prepared(lambda *, days: EscrowTransaction.objects.filter(**{f"inspection_days__{lookup}": days}),
                       days=int)
    expected = list(EscrowTransaction.objects.filter(**{f"inspection_days__{lookup}": 3}))
    assert expected == [txn]
    assert by_days.rows(days=3) == expected
