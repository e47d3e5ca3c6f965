"""Milestone plans in privacy: the section of a person's data archive (UU PDP Pasal 7, 13, 32),
what account erasure does to plans, and the retention job's step for them.

It lives here, not in ``privacy.export``, because privacy sits below milestones in the import
direction (DESIGN.md §2) and may not import it; ``MilestonesConfig.ready()`` registers it with
``privacy.export.section_register``. The archive's rules apply: the other party appears only by
the name the plan page shows, never by contact details, so the buyer's email address the seller
typed is shown only to the buyer it belongs to.
"""
from collections import Counter

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.validators import canonical_email
from privacy import purge as privacy_purge
from privacy.export import Collected, Section
from privacy.selectors import former_addresses, sent_to_former_addresses

from .models import Milestone, MilestonePlan
from .selectors import plans_past_their_period


def collect(user) -> Collected:
    plans = (MilestonePlan.objects.filter(Q(seller=user) | Q(buyer=user)).select_related("seller", "buyer")
             .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.select_related("escrow_transaction")
                                        .order_by("position")))
             .order_by("created_at", "id"))
    records = []
    for plan in plans:
        role = "seller" if plan.seller_id == user.pk else "buyer"
        other = plan.buyer if role == "seller" else plan.seller
        record = {
            "role": role,
            "role_label": gettext("Seller") if role == "seller" else gettext("Buyer"),
            "counterparty": other.full_name if other is not None else "",
            "title": plan.title,
            "description": plan.description,
            "status": plan.status,
            "status_label": plan.get_status_display(),
            "schedule": plan.get_payment_schedule_display(),
            "total": plan.total,
            "fee_amount": plan.fee_amount,
            "fee_paid_by": plan.get_fee_payer_display(),
            "your_fee_share": plan.seller_fee if role == "seller" else plan.buyer_fee,
            "created_at": plan.created_at,
            "accepted_at": plan.accepted_at,
            "closed_at": plan.closed_at,
            "milestones": [{
                "number": milestone.position,
                "title": milestone.title,
                "amount": milestone.amount,
                "due_date": milestone.due_date,
                "your_fee_share": milestone.seller_fee if role == "seller" else milestone.buyer_fee,
                "reference": milestone.escrow_transaction.reference if milestone.escrow_transaction_id else "",
            } for milestone in plan.milestones.all()],
        }
        if role == "buyer":
            record["invited_email"] = plan.buyer_email  # the buyer's own address, as the seller typed it
        records.append(record)
    return Collected(records)


SECTION = Section("milestone_plans", _("Milestone plans"), ("milestones.MilestonePlan", "milestones.Milestone"), collect)


def erase(*, user) -> None:
    """When a person's account is erased, plans they proposed that no buyer answered yet are
    withdrawn (``milestones.services``): accepting one would open transactions in an erased
    account's name. Every plan they proposed that never became a transaction (withdrawn now,
    withdrawn before, or declined) is then anonymised: nothing needs their words any more. An
    accepted plan stays as it is: its milestones are escrow transactions, kept as financial records,
    and the plan goes with them (``purge`` below).

    The address a seller invited the person at is the person's email: it is cleared from the plans
    they bought (as from their transactions' invitations, ``privacy.services.account_erase``) and
    from plans still proposed to it (nobody can accept those any more: no account has an empty
    address). So is an address they used before changing it, from the plans proposed to it while it
    was theirs (``privacy.selectors.former_addresses``): one proposed to it before or after is someone
    else's. Runs before the account is locked and renamed, so ``user.email`` is still the old one and
    the history of their changes is still there."""
    from .services import milestone_plan_cancel, milestone_plans_anonymise

    with translation.override(settings.LANGUAGE_CODE):  # the audit trail is read by staff
        reason = str(ERASURE_REASON)
    for plan in MilestonePlan.objects.filter(seller=user, status=MilestonePlan.Status.PROPOSED):
        milestone_plan_cancel(plan=plan, seller=user, reason=reason)
    never_accepted = MilestonePlan.objects.filter(
        seller=user, status__in=[MilestonePlan.Status.DECLINED, MilestonePlan.Status.CANCELLED])
    milestone_plans_anonymise(plan_ids=list(never_accepted.values_list("pk", flat=True)),
                              text=privacy_purge.ANONYMISED)
    invited = canonical_email(user.email)
    MilestonePlan.objects.filter(Q(buyer=user) | Q(buyer__isnull=True, buyer_email=invited)).update(buyer_email="")
    sent_then = sent_to_former_addresses(former_addresses(user=user), email_field="buyer_email")
    if sent_then is not None:
        MilestonePlan.objects.filter(sent_then, buyer__isnull=True).update(buyer_email="")


ERASURE_REASON = _("The seller's account was erased.")


def erasure_blockers(*, user) -> list[str]:
    """An accepted plan with a milestone not opened yet is a contract still in motion: the next
    milestone would open (by either party, or by the periodic job on its due date) as a transaction
    in the person's name. Erasure waits until every milestone has been opened and closed."""
    plans = (MilestonePlan.objects.filter(Q(seller=user) | Q(buyer=user), status=MilestonePlan.Status.ACCEPTED,
                                          milestones__escrow_transaction__isnull=True)
             .distinct().order_by("created_at", "id"))
    return [gettext("The milestone plan “%(title)s” still has milestones to open.") % {"title": plan.title}
            for plan in plans]


def purge(now) -> Counter:
    """The retention job's step for plans (registered with ``privacy.purge.purge_step_register``):
    anonymise, in locked batches, the plans ``selectors.plans_past_their_period`` finds due."""
    from .services import milestone_plans_anonymise

    return Counter(milestone_plans=privacy_purge.batches(
        plans_past_their_period(now=now),
        lambda pks: milestone_plans_anonymise(plan_ids=pks, text=privacy_purge.ANONYMISED)))
