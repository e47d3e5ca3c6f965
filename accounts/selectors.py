"""Reading people's payout destinations."""
from django.http import Http404

from .models import PayoutDestination


def payout_destination_list(*, owner):
    """The owner's active destinations, default first. Archived ones stay in the database for the
    disbursements that point at them, but are no longer the owner's to pick or manage."""
    return PayoutDestination.objects.filter(owner=owner, is_archived=False).order_by(
        "-is_default", "-created_at", "-pk"
    )


def payout_destination_default(*, owner, **annotations) -> PayoutDestination | None:
    """Where the owner's money goes when they named no account: their default, else their newest.
    ``annotations``: expressions a caller needs with it, read by the same query."""
    return payout_destination_list(owner=owner).annotate(**annotations).first()


def payout_destination_get_for_owner(*, owner, pk: int) -> PayoutDestination:
    """One of the owner's active destinations; anyone else's gets 404, so ids leak nothing."""
    try:
        return payout_destination_list(owner=owner).get(pk=pk)
    except PayoutDestination.DoesNotExist:
        raise Http404 from None
