"""Milestone (termin) plans: a service paid in stages.

The seller proposes 2–10 milestones (title, amount, due date); the buyer accepts the plan once.
Each milestone then becomes an ordinary escrow transaction (its *child*), with its own reference,
bill, hold, delivery, inspection clock, confirmation or auto-confirmation, dispute, payout and
refund — the existing services, unchanged. The plan itself holds no money: the ledger holds per
child, so ``ledger_check`` proves paid = disbursed + refunded + fees + held for every milestone.

The plan's status is a protected state machine: ``proposed`` → ``accepted`` | ``declined`` |
``cancelled``. What happens to the money after acceptance is each child's own state.

Fees: computed once on the plan's whole value and split across the milestones
(``milestones.fees``); each child keeps its share as its fee snapshot.
"""
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from transactions.models import FeePayerChoice


def _new_token() -> str:
    return secrets.token_urlsafe(12)


class MilestonePlan(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for the buyer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined by the buyer")
        CANCELLED = "cancelled", _("Cancelled by the seller")

    class Schedule(models.TextChoices):
        UPFRONT = "upfront", _("Everything up front (held per milestone)")
        PER_MILESTONE = "per_milestone", _("Milestone by milestone")

    token = models.CharField(max_length=32, unique=True, default=_new_token, editable=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="milestone_plans_sold",
                               verbose_name=_("seller"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="milestone_plans_bought",
                              null=True, blank=True, verbose_name=_("buyer"))
    buyer_email = models.EmailField(_("buyer's email"))
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"))
    fee_payer = models.CharField(_("service fee paid by"), max_length=10, choices=FeePayerChoice.choices)
    payment_schedule = models.CharField(_("payment"), max_length=20, choices=Schedule.choices)
    inspection_days = models.PositiveSmallIntegerField(_("inspection period (working days)"))
    # The whole value and its fee, computed once (the milestones keep their shares).
    total = models.BigIntegerField(_("total value"))
    fee_amount = models.BigIntegerField(_("service fee"))
    buyer_fee = models.BigIntegerField(_("buyer's share of the fee"))
    seller_fee = models.BigIntegerField(_("seller's share of the fee"))
    status = FSMField(_("status"), default=Status.PROPOSED, choices=Status.choices, protected=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("milestone plan")
        verbose_name_plural = _("milestone plans")
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gt=0), name="milestone_plan_total_positive"),
            models.CheckConstraint(condition=models.Q(fee_amount=models.F("buyer_fee") + models.F("seller_fee")),
                                   name="milestone_plan_fee_shares_add_up"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_label(self) -> str:
        """The plan in the audit trail, without its title (``audit.services.audit_record``)."""
        return f"{self._meta.verbose_name} {self.token}"

    def get_absolute_url(self) -> str:
        return reverse("milestones:detail", kwargs={"token": self.token})

    @property
    def buyer_pays(self) -> int:
        return self.total + self.buyer_fee

    @property
    def seller_receives(self) -> int:
        return self.total - self.seller_fee

    def role_of(self, user) -> str | None:
        if user is None or not user.is_authenticated:
            return None
        if user.pk == self.seller_id:
            return "seller"
        if self.buyer_id is not None and user.pk == self.buyer_id:
            return "buyer"
        return None

    # Bodies are empty on purpose: ``milestones.services`` locks, saves, opens the milestones and audits.
    @transition(field=status, source=Status.PROPOSED, target=Status.ACCEPTED)
    def accept(self):
        """The buyer accepts the whole plan once; its milestones become escrow transactions."""

    @transition(field=status, source=Status.PROPOSED, target=Status.DECLINED)
    def decline(self):
        """The buyer declines the plan; nothing was paid."""

    @transition(field=status, source=Status.PROPOSED, target=Status.CANCELLED)
    def cancel(self):
        """The seller withdraws the proposal before the buyer accepted it."""


class Milestone(models.Model):
    """One stage of a plan, with its share of the plan's fee and, once opened, its escrow transaction."""

    plan = models.ForeignKey(MilestonePlan, on_delete=models.PROTECT, related_name="milestones",
                             verbose_name=_("milestone plan"))
    position = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=120)
    amount = models.BigIntegerField(_("amount"))
    due_date = models.DateField(_("due date"))
    fee_amount = models.BigIntegerField(_("share of the service fee"))
    buyer_fee = models.BigIntegerField(_("buyer's share of the fee"))
    seller_fee = models.BigIntegerField(_("seller's share of the fee"))
    escrow_transaction = models.OneToOneField("transactions.EscrowTransaction", on_delete=models.PROTECT, null=True,
                                              blank=True, related_name="milestone", verbose_name=_("transaction"))

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="milestone_position_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(condition=models.Q(fee_amount=models.F("buyer_fee") + models.F("seller_fee")),
                                   name="milestone_fee_shares_add_up"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.position}"

    @property
    def buyer_pays(self) -> int:
        return self.amount + self.buyer_fee

    @property
    def seller_receives(self) -> int:
        return self.amount - self.seller_fee
