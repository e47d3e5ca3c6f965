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
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class Payout(ConcurrentTransitionMixin, models.Model):
    """Money owed to one person for one transaction, paid in one or more parts.

    A state machine (transitions below; the status is protected). ``disbursements.services``
    decides when each transition happens; the model only says which are possible:
    waiting for an account → being paid → paid out, with "a part failed: action needed" reachable
    from being paid (a final failure) and from paid out (a bank reversed a transfer).
    """

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
    status = FSMField(_("status"), max_length=24, choices=Status.choices, default=Status.AWAITING_DESTINATION,
                      protected=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    # FAQ: payout within 1×24 working hours of the buyer's confirmation.
    due_at = models.DateTimeField(_("promised by"), null=True, blank=True, db_index=True)
    # When the money last set off to an account: parts made for the account the payout was waiting for,
    # for another account after a failure, or a failed part sent again (not a re-split for the daily
    # limit: the same send). A refund's transfer window counts from it (``refunds.policy``).
    sending_since = models.DateTimeField(_("sent on its way at"), null=True, blank=True)
    # A refund's promise is a window from when the money sets off (the refund policy's working days, given by
    # ``refunds``): ``due_at`` moves with ``sending_since``. Empty for a seller's payout (``promise_counted_from``).
    due_working_days = models.PositiveSmallIntegerField(_("working days from when it is sent"), null=True,
                                                        blank=True)
    # A seller's promise is the FAQ's 1×24 working hours from when the payout was planned (the buyer's
    # confirmation, or the decision that released the money): kept so that ``due_at`` can be counted again
    # when staff change the working-day calendar. Empty for a refund, and for a seller payout planned before
    # it was kept (its ``due_at`` stays as it was).
    promise_counted_from = models.DateTimeField(_("promise counted from"), null=True, blank=True)
    # When the payout last came to need a person (a part failed for good, was reversed or was held): Finance's
    # time to resolve it, and a refund's refund-by date while it waits, count from then (``refunds.selectors``).
    needs_action_since = models.DateTimeField(_("needs action since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.escrow_transaction_id} Rp {self.amount}"

    # A retry of one failed part may come while another retried part is already being paid.
    @transition(field=status, source=[Status.AWAITING_DESTINATION, Status.NEEDS_ACTION, Status.IN_PROGRESS],
                target=Status.IN_PROGRESS)
    def start_paying(self):
        """Parts were created for a verified account."""

    @transition(field=status, source=[Status.IN_PROGRESS, Status.NEEDS_ACTION], target=Status.COMPLETED)
    def complete(self, *, at):
        """Every part succeeded and no failed part is left without its retry."""
        self.completed_at = at

    @transition(field=status, source=[Status.IN_PROGRESS, Status.NEEDS_ACTION, Status.COMPLETED],
                target=Status.NEEDS_ACTION)
    def need_action(self, *, at):
        """A part failed for good, was reversed or is held: a person decides (retry, other account)."""
        self.needs_action_since = at


class Disbursement(ConcurrentTransitionMixin, models.Model):
    """One SendMe transfer (bank) or top-up (e-wallet): a part of a payout.

    A state machine (transitions below; the status is protected): queued → sending → pending →
    succeeded, with "not processed, resend under the same reference" (retrying) and "outcome
    unknown, ask SendMe" (unknown) in between, failed as a final failure, and reversed when a
    bank gives back a transfer that had succeeded. ``disbursements.services`` applies SendMe's
    answers (``outcomes.classify``) through these transitions.
    """

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
        HELD = "held", _("Held: SendMe gave an unlisted answer, Faspay's technical team is asked")

    class Wait(models.TextChoices):
        NONE = "", _("None")
        DAILY_LIMIT = "daily_limit", _("Daily limit reached: waits for the next day")
        NIGHT = "night", _("Bank transfers wait until 05.00 WIB")
        DESTINATION = "destination", _("Waiting for a verified payout account")
        # Faspay took the buyer's payment back and staff have not booked it yet (``payments.services``).
        REVERSED_PAYMENT = "reversed", _("Held: the payment provider reversed the buyer's payment")

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="parts", verbose_name=_("payout"))
    sequence = models.PositiveSmallIntegerField(_("part"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"))
    partner_reference_no = models.CharField(_("partner reference"), max_length=64, unique=True)
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED,
                      protected=True, db_index=True)
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
        return self.status in (self.Status.QUEUED, self.Status.HELD, *IN_FLIGHT)

    @transition(field=status, source=Status.QUEUED, target=Status.SENDING)
    def start_sending(self, *, quota_day, now, lease_until):
        """Its amount was reserved on ``quota_day``'s quota; the worker holds it until the lease ends."""
        self.quota_day = quota_day
        self.waiting_for = ""
        self.attempts += 1
        self.sent_at = self.sent_at or now
        self.next_attempt_at = lease_until

    @transition(field=status, source=Status.RETRYING, target=Status.SENDING)
    def resend(self, *, quota_day, lease_until):
        """SendMe did not process it: the very same request goes again (same reference), charged
        to the quota of ``quota_day`` — the WIB day it is sent, which may be later than the first."""
        self.quota_day = quota_day
        self.waiting_for = ""
        self.attempts += 1
        self.next_attempt_at = lease_until

    @transition(field=status, source=Status.QUEUED, target=Status.CANCELLED)
    def resplit(self):
        """Never sent, and larger than the Daily Nominal Total of the day it would go: replaced by
        smaller parts (new references: this one never reached SendMe)."""
        self.failure_reason = "re-split: larger than the daily limit"
        self.next_attempt_at = None

    @transition(field=status, source=Status.FAILED, target=Status.QUEUED)
    def requeue_same_reference(self):
        """Terms A: a retry after a Failed result uses the same Transaction ID. The part goes back
        to the queue unchanged — same reference, same destination, same request body."""
        self.failure_reason = ""
        self.completed_at = None
        self.next_attempt_at = None
        self.not_before = None
        self.waiting_for = ""
        self.latest_transaction_status = ""

    @transition(field=status, source=[Status.SENDING, Status.UNKNOWN, Status.RETRYING, Status.PENDING],
                target=Status.HELD)
    def hold_unlisted(self, *, code, message=""):
        """Terms A: a response code not in Faspay's list goes to Faspay's technical team. Nothing is
        decided meanwhile: the money stays payable, the quota stays taken (it may have gone)."""
        self.last_response_code = code[:10]
        self.failure_reason = f"unlisted response {code}: contact Faspay's technical team"[:255]
        if message:
            self.last_response_message = message[:255]
        self.next_attempt_at = None

    @transition(field=status, source=Status.HELD, target=Status.UNKNOWN)
    def release_hold(self, *, check_at):
        """Faspay clarified: a status inquiry under the same reference decides what happened."""
        self.next_attempt_at = check_at

    @transition(field=status, source=[Status.SENDING, Status.UNKNOWN, Status.RETRYING, Status.PENDING],
                target=Status.UNKNOWN)
    def lose_track(self, *, check_at, message=""):
        """No answer (timeout, 5xx, duplicate reference): a status inquiry will tell."""
        self.next_attempt_at = check_at
        if message:
            self.last_response_message = message[:255]

    @transition(field=status, source=[Status.SENDING, Status.UNKNOWN], target=Status.RETRYING)
    def plan_resend(self, *, at):
        """Not processed by SendMe (or never arrived there): resend under the same reference."""
        self.next_attempt_at = at

    @transition(field=status, source=[Status.SENDING, Status.UNKNOWN, Status.RETRYING, Status.PENDING],
                target=Status.PENDING)
    def mark_pending(self, *, check_at):
        """Accepted by SendMe and in process: its status is polled."""
        self.next_attempt_at = check_at

    @transition(field=status, source=[Status.SENDING, Status.UNKNOWN, Status.RETRYING, Status.PENDING],
                target=Status.SUCCEEDED)
    def succeed(self, *, at):
        self.completed_at = at
        self.next_attempt_at = None

    @transition(field=status, source=[Status.SENDING, Status.UNKNOWN, Status.RETRYING, Status.PENDING],
                target=Status.FAILED)
    def fail(self, *, reason, at):
        """Final: the money stays payable and a person decides (a retry is a new part)."""
        self.failure_reason = reason[:255]
        self.completed_at = at
        self.next_attempt_at = None

    @transition(field=status, source=[Status.SUCCEEDED, Status.SENDING, Status.UNKNOWN, Status.RETRYING,
                                      Status.PENDING], target=Status.REVERSED)
    def reverse(self, *, latest_status):
        """The bank gave the transfer back (``latestTransactionStatus`` 04)."""
        self.latest_transaction_status = latest_status
        self.next_attempt_at = None


class RetryApproval(ConcurrentTransitionMixin, models.Model):
    """A retry under a NEW partner reference: only for a changed destination (the same destination
    is retried under the same reference, terms A). A new reference is a new transaction at
    INTRASA's own risk, so one person asks, with a reason, and a second person approves."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for a second person's approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    failed = models.ForeignKey(Disbursement, on_delete=models.PROTECT, related_name="retry_approvals",
                               verbose_name=_("failed transfer"))
    destination = models.ForeignKey("accounts.PayoutDestination", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("new destination"))
    reason = models.CharField(_("reason"), max_length=255)
    status = FSMField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED,
                      protected=True, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("retry under a new reference")
        verbose_name_plural = _("retries under a new reference")
        constraints = [
            models.UniqueConstraint(fields=["failed"], condition=models.Q(status="requested"),
                                    name="one_open_retry_approval_per_part"),
        ]

    def __str__(self) -> str:
        return f"{self.failed_id} → {self.destination_id} ({self.status})"

    @transition(field=status, source=Status.REQUESTED, target=Status.APPROVED)
    def approve(self, *, by, at, note=""):
        self.decided_by, self.decided_at, self.decision_note = by, at, note[:255]

    @transition(field=status, source=Status.REQUESTED, target=Status.REJECTED)
    def reject(self, *, by, at, note=""):
        self.decided_by, self.decided_at, self.decision_note = by, at, note[:255]


# Sent (or being sent) and not settled: SendMe may still answer for these.
IN_FLIGHT = (Disbursement.Status.SENDING, Disbursement.Status.RETRYING, Disbursement.Status.UNKNOWN,
             Disbursement.Status.PENDING)


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
