from django.db.models import Prefetch

from .models import Disbursement, Payout


def payouts_for(*, escrow_transaction, user):
    """The payouts of a transaction that ``user`` receives, with their parts (two queries)."""
    return (Payout.objects.filter(escrow_transaction=escrow_transaction, recipient=user)
            .prefetch_related(Prefetch("parts", queryset=Disbursement.objects.order_by("sequence")))
            .order_by("created_at"))
