"""``seller_payout_plan(first_release=True)`` skips looking for an earlier seller payout: the
confirmation from *shipped* is the transaction's first release. That holds only while no state in
which a payout can exist leads back to *shipped*; the state machine is checked here, so a new
transition that breaks it fails before a payout is planned twice."""
from disbursements.models import Payout
from tests import scenarios
from transactions.models import EscrowTransaction, Status

# The states a seller payout can exist in: after a release (confirmed, disbursed), or after a
# refund / dispute that a later release may follow.
AFTER_A_RELEASE = {Status.CONFIRMED, Status.DISBURSED, Status.REFUNDED, Status.DISPUTED}


def test_no_state_with_a_payout_leads_back_to_shipped():
    transitions = EscrowTransaction._meta.get_field("status").get_all_transitions(EscrowTransaction)
    sources_of: dict[str, set[str]] = {}
    for transition in transitions:
        sources_of.setdefault(transition.target, set()).add(transition.source)
    before_shipped, frontier = set(), {Status.SHIPPED}
    while frontier:
        state = frontier.pop()
        for source in sources_of.get(state, set()) - before_shipped:
            before_shipped.add(source)
            frontier.add(source)
    assert not before_shipped & AFTER_A_RELEASE, before_shipped & AFTER_A_RELEASE


def test_a_confirmation_plans_exactly_one_seller_payout(seller, buyer, db):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    assert Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT).count() == 1
