"""Paying people through Faspay SendMe: payouts, their parts (one SendMe transfer each), the
per-day quota of the Daily Nominal Total, and the history of that limit.

The invariants that keep money safe live here and in ``services``:

* A part's ``partner_reference_no`` is chosen once, stored before any call, and reused on every
  retry (the SendMe terms: a retry with another id is a new transaction). It is unique.
* A part is sent only after its amount was reserved on the WIB day's quota row by a conditional
  UPDATE in the same database transaction that marks it ``sending``.
* A part whose outcome is unknown (timeout, 5xx, duplicate reference) is resolved by a status
  inquiry under the same reference, never by sending again under a new one.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Payout(models.Model):
    """Money owed to one person for one transaction, paid in one or more parts."""

    class Purpose(models.TextChoices):
        SELLER_PAYOUT = "seller_payout", _("Payout to the seller")
        BUYER_REFUND = "buyer_refund", _("Refund to the buyer")

    class Status(models.TextChoices):
        AWAITING_DESTINATION = "awaiting_destination", _("Waiting for a verified payout account")
        IN_PROGRESS = "in_progress", _("Being paid out")
        COMPLETED = "completed", _("Paid out")
        NEEDS_ACTION = "needs_action", _("A part failed: action needed")

    escrow_transaction = models.ForeignKey("transactions.EscrowTransaction", on_delete=models.PROTECT,
                                           related_name="payouts", verbose_name=_("transaction"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts",
                                  verbose_name=_("recipient"))
    amount = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    # FAQ: payout within 1×24 working hours of the buyer's confirmation.
    due_at = models.DateTimeField(_("promised by"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.escrow_transaction_id} Rp {self.amount}"


class Disbursement(models.Model):
    """One SendMe transfer (bank) or top-up (e-wallet): a part of a payout."""

    class Kind(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        EWALLET = "ewallet", _("E-wallet top-up")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Not processed by SendMe: will resend with the same reference")
        UNKNOWN = "unknown", _("Outcome unknown: checking with SendMe")
        PENDING = "pending", _("Accepted by SendMe, in process")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        REVERSED = "reversed", _("Reversed by the bank")
        CANCELLED = "cancelled", _("Cancelled")

    class Wait(models.TextChoices):
        NONE = "", _("None")
        DAILY_LIMIT = "daily_limit", _("Daily limit reached: waits for the next day")
        NIGHT = "night", _("Bank transfers wait until 05.00 WIB")
        DESTINATION = "destination", _("Waiting for a verified payout account")

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="parts", verbose_name=_("payout"))
    sequence = models.PositiveSmallIntegerField(_("part"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"))
    partner_reference_no = models.CharField(_("partner reference"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    waiting_for = models.CharField(_("waiting for"), max_length=12, choices=Wait.choices, blank=True, default="")
    # Recipient data as sent (the destination may be archived later; this is what was paid).
    destination = models.ForeignKey("accounts.PayoutDestination", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="disbursements", verbose_name=_("destination"))
    bank_code = models.CharField(max_length=3, blank=True)
    account_number = models.CharField(max_length=20, blank=True)
    account_name = models.CharField(max_length=100, blank=True)
    ewallet_provider = models.CharField(max_length=3, blank=True)
    ewallet_phone = models.CharField(max_length=20, blank=True)
    description = models.CharField(_("description"), max_length=100)
    # Scheduling: the WIB day whose quota it may use, and not before this instant (night window).
    not_before = models.DateTimeField(_("not before"), null=True, blank=True, db_index=True)
    quota_day = models.DateField(_("quota day"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    attempts = models.PositiveIntegerField(default=0, editable=False)
    # Status inquiries since SendMe last answered a send: the pending-poll schedule starts again
    # from its first step whenever a send is accepted, however many sends it took.
    status_checks = models.PositiveIntegerField(default=0, editable=False)
    provider_reference_no = models.CharField(_("SendMe reference"), max_length=64, blank=True)
    last_response_code = models.CharField(_("last response"), max_length=10, blank=True)
    last_response_message = models.CharField(_("last message"), max_length=255, blank=True)
    latest_transaction_status = models.CharField(max_length=2, blank=True)
    failure_reason = models.CharField(_("failure"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    retry_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="retried_by", verbose_name=_("retry of"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["payout_id", "sequence", "id"]
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="disbursement_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.partner_reference_no} Rp {self.amount} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.SENDING, self.Status.RETRYING, self.Status.UNKNOWN,
                               self.Status.PENDING)


class DailyQuota(models.Model):
    """How much of the Daily Nominal Total one WIB day has used. The only way to use quota is
    ``quota.reserve`` (a conditional UPDATE), so concurrent workers cannot overshoot."""

    day = models.DateField(_("day (WIB)"), unique=True)
    limit = models.BigIntegerField(_("daily limit"))
    used = models.BigIntegerField(_("used"), default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("daily quota")
        verbose_name_plural = _("daily quotas")
        constraints = [
            models.CheckConstraint(condition=models.Q(used__gte=0) & models.Q(used__lte=models.F("limit")),
                                   name="quota_within_limit"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.used}/{self.limit}"

    @property
    def remaining(self) -> int:
        return self.limit - self.used


class DailyLimitChange(models.Model):
    """The Daily Nominal Total agreed with Faspay from a given day on (terms A: changes by
    written request). Every change is recorded with who and why."""

    effective_from = models.DateField(_("effective from"))
    limit = models.BigIntegerField(_("daily limit"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("changed by"))
    reason = models.CharField(_("reason"), max_length=255)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-effective_from", "-created_at"]
        verbose_name = _("daily limit change")
        verbose_name_plural = _("daily limit changes")
        constraints = [models.CheckConstraint(condition=models.Q(limit__gt=0), name="daily_limit_positive")]

    def __str__(self) -> str:
        return f"{self.effective_from}: {self.limit}"
