"""Reading milestone plans: the plan with its milestones and their transactions in two queries."""
from django.db.models import Prefetch, Q
from django.http import Http404

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
