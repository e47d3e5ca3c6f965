"""Disputes and the money they freeze agree (run by ``ledger_check``): a transaction is
``disputed`` exactly when it has an open dispute (open or escalated to staff). A disputed
transaction without one has nobody deciding its money; an open dispute on a transaction that moved
on keeps escalating a case whose money is gone."""
from ledger.checks import Breach
from transactions.models import EscrowTransaction, Status

from .models import Dispute

OPEN = [Dispute.Status.OPEN, Dispute.Status.ESCALATED]


def dispute_state_breaches() -> list[Breach]:
    without = (EscrowTransaction.objects.filter(status=Status.DISPUTED).exclude(dispute__status__in=OPEN)
               .values_list("reference", flat=True))
    stale = (Dispute.objects.filter(status__in=OPEN).exclude(escrow_transaction__status=Status.DISPUTED)
             .values_list("escrow_transaction__reference", "escrow_transaction__status"))
    return ([Breach("disputed-has-open-dispute", reference, "disputed without an open dispute")
             for reference in without]
            + [Breach("open-dispute-is-disputed", reference, f"an open dispute on a transaction in {status}")
               for reference, status in stale])
