"""Reading milestone plans: the plan with its milestones and their transactions in two queries."""
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404

from privacy import retention
from privacy.purge import ANONYMISED, transactions_past_their_period
from transactions.models import Category, EscrowTransaction

from .models import Milestone, MilestonePlan


def plan_get_for_viewer(*, token: str, user) -> MilestonePlan:
    """The plan behind ``token``. Before the buyer answers, whoever holds the link sees the terms
    (as with an invitation); after, only its two parties (anyone else: 404)."""
    plan = (MilestonePlan.objects.select_related("seller", "buyer")
            .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.select_related("escrow_transaction")
                                       .order_by("position")))
            .filter(token=token).first())
    if plan is None:
        raise Http404
    if plan.status != MilestonePlan.Status.PROPOSED and plan.role_of(user) is None:
        raise Http404
    return plan


def plan_list_for_user(*, user):
    return (MilestonePlan.objects.select_related("seller", "buyer")
            .filter(Q(seller=user) | Q(buyer=user)).order_by("-created_at"))


def upfront_billed_together(escrow_transaction) -> list[int] | None:
    """The transactions of the up-front plan ``escrow_transaction`` is a milestone of, by position:
    the buyer pays them with one bill (``payments.selectors.bill_group_register``; payments keeps only
    those still waiting for payment). ``None`` for any other transaction."""
    if escrow_transaction.category != Category.SERVICE:
        return None  # a milestone is always a service: no query for the goods paid every day
    plan_id = (Milestone.objects.filter(escrow_transaction=escrow_transaction,
                                        plan__payment_schedule=MilestonePlan.Schedule.UPFRONT)
               .values_list("plan_id", flat=True).first())
    if plan_id is None:
        return None
    return list(Milestone.objects.filter(plan_id=plan_id, escrow_transaction__isnull=False)
                .order_by("position").values_list("escrow_transaction_id", flat=True))


def plans_past_their_period(*, now):
    """Plans whose personal data (the buyer's email, titles, description) are past their period at
    ``now``, for the retention job (``milestones.privacy_export.purge``).

    * An accepted plan is part of its milestones' transaction records: due when every milestone has
      a transaction and every one of them is past the transaction-records period — the same
      ``privacy.purge.transactions_past_their_period`` that anonymises them, so never while one is
      still in motion (``privacy.obligations``), and never while a milestone is still to open.
    * A plan that never became a transaction is an offer (``privacy.retention.UNACCEPTED_OFFERS``):
      counted from when it was declined or withdrawn, or, left unanswered, from when it was proposed.
    """
    due_transactions = EscrowTransaction.objects.filter(transactions_past_their_period(now))
    # ``exclude`` keeps a milestone without a transaction (its escrow_transaction is null): not yet due.
    milestones = Milestone.objects.filter(plan=OuterRef("pk"))
    not_due = milestones.exclude(escrow_transaction__in=due_transactions)
    offers_cutoff = retention.UNACCEPTED_OFFERS.cutoff(now)
    statuses = MilestonePlan.Status
    return (MilestonePlan.objects.exclude(title=ANONYMISED)
            .filter(Q(Exists(milestones), ~Exists(not_due), status=statuses.ACCEPTED)
                    | Q(status__in=[statuses.DECLINED, statuses.CANCELLED], closed_at__lte=offers_cutoff)
                    | Q(status=statuses.PROPOSED, created_at__lte=offers_cutoff)))
