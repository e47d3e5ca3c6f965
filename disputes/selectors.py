"""Reading disputes with a constant number of queries per page."""
from django.db.models import Prefetch, Q
from django.http import Http404

from refunds.access import may_see_evidence

from .models import Dispute, DisputeMessage, Evidence, SettlementOffer


def dispute_get_for_party(*, user, reference: str) -> Dispute:
    """The dispute of a transaction ``user`` is a party to; anyone else gets 404."""
    messages = DisputeMessage.objects.select_related("author").prefetch_related("attachments")
    try:
        return (Dispute.objects.select_related("escrow_transaction", "escrow_transaction__seller",
                                               "escrow_transaction__buyer", "resolved_by")
                .prefetch_related(Prefetch("messages", queryset=messages),
                                  Prefetch("offers", queryset=SettlementOffer.objects.select_related("proposed_by")),
                                  "evidence")
                .filter(Q(escrow_transaction__seller=user) | Q(escrow_transaction__buyer=user))
                .get(escrow_transaction__reference=reference))
    except Dispute.DoesNotExist:
        raise Http404 from None


def dispute_for_transaction(*, escrow_transaction) -> Dispute | None:
    return Dispute.objects.filter(escrow_transaction=escrow_transaction).first()


def evidence_get_for_user(*, user, pk: int) -> Evidence:
    """Evidence for whoever ``refunds.access`` lets see it (both parties, dispute staff); others 404."""
    evidence = Evidence.objects.select_related("dispute__escrow_transaction").filter(pk=pk).first()
    # An empty file name: deleted by the retention job (privacy.purge) once its period ended.
    if evidence is None or not evidence.file or not may_see_evidence(user, evidence):
        raise Http404
    return evidence
