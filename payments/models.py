"""Bills the buyer pays, the provider's notifications about them, and bank-statement lines.

Money is real only when the provider says so (DESIGN.md §5): a notification moves the transaction
to ``paid``; the status inquiry (or, for bank transfers, the imported bank statement) verifies it.

A bill is a state machine (transitions declared once, below; the status field is protected):

* ``creating``: the intent is recorded and Post Data was sent, but Faspay has not answered yet.
  The bill may exist at Faspay: it is never given up as "failed" on a timeout, only re-posted with
  the same ``bill_no`` until Faspay says what it did.
* ``pending`` (Faspay created it) -> ``paid`` (Faspay says it was paid) -> ``verified`` (the amount
  is known from a source that states it, and the money is in the ledger: held in escrow or owed
  back to the buyer).
* ``cancelled``, ``expired``, ``failed`` (Faspay refused to create it): none of them is final for
  money. Any bill INTRASA ever sent can still be paid, and such a payment is placed like any other.
* ``reversed``: Faspay took a paid bill's money back (``payment_status_code`` 4, which only flags the
  bill) and staff booked it: the ledger no longer counts the money as collected
  (``escrow.services.escrow_book_provider_reversal``).
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .channels import METHOD_LABELS, Method


class Bill(ConcurrentTransitionMixin, models.Model):
    """One attempt to collect a transaction's amount through one channel."""

    class Status(models.TextChoices):
        CREATING = "creating", _("Being created")
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("Paid, awaiting verification")
        VERIFIED = "verified", _("Paid and verified")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Could not be created")
        REVERSED = "reversed", _("Taken back by the provider: booked")

    class Flag(models.TextChoices):
        NONE = "", _("None")
        SHORT = "short", _("Paid less than the bill")
        EXCESS = "excess", _("Paid more than the bill")
        DOUBLE = "double", _("Double payment")
        REVERSED = "reversed", _("Payment reversed by the provider")
        LATE = "late", _("Paid after the transaction closed")

    class AmountSource(models.TextChoices):
        """Where the paid amount came from. Money is placed only on an amount a source states:
        Faspay's status inquiry states none, so it never decides how much arrived."""

        NONE = "", _("Not known yet")
        NOTIFICATION = "notification", _("Faspay's payment notification (payment_total)")
        INQUIRY = "inquiry", _("Faspay's status inquiry (payment_total)")
        STATEMENT = "statement", _("INTRASA's bank statement")
        CLOSED_CHANNEL = "closed_channel", _("The channel accepts only the exact bill amount")
        STAFF = "staff", _("Recorded by staff from Faspay's report")

    escrow_transaction = models.ForeignKey("transactions.EscrowTransaction", on_delete=models.PROTECT,
                                           related_name="bills", verbose_name=_("transaction"))
    method = models.CharField(_("method"), max_length=20, choices=list(METHOD_LABELS.items()))
    channel_code = models.CharField(_("channel"), max_length=10)
    # Our id at Faspay (≤ 32 characters), reused when a timed-out creation is retried.
    bill_no = models.CharField(_("bill number"), max_length=32, unique=True)
    provider_trx_id = models.CharField(_("Faspay trx_id"), max_length=40, blank=True, db_index=True)
    amount = models.BigIntegerField(_("amount to pay"))
    unique_code = models.PositiveSmallIntegerField(_("unique code"), default=0)
    pay_code = models.CharField(_("virtual account / payment code"), max_length=40, blank=True, db_index=True)
    qr_content = models.TextField(_("QR content"), blank=True)
    redirect_url = models.URLField(_("provider payment page"), max_length=500, blank=True)
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.CREATING,
                      protected=True, db_index=True)
    flag = models.CharField(_("flag"), max_length=20, choices=Flag.choices, blank=True, default="",
                            db_index=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    expires_at = models.DateTimeField(_("pay before"))
    paid_amount = models.BigIntegerField(_("amount paid"), null=True, blank=True)
    amount_source = models.CharField(_("amount paid according to"), max_length=20, choices=AmountSource.choices,
                                     blank=True, default="")
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    reversal_booked_at = models.DateTimeField(_("reversal booked at"), null=True, blank=True)
    # When the provider settles the cash to INTRASA (channel's D+n, REFERENCE.md §6).
    settlement_expected_at = models.DateTimeField(_("cash expected at"), null=True, blank=True)
    # Polling: newer bills are asked more often (payments.polling).
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    checks = models.PositiveIntegerField(default=0, editable=False)
    # The first failed status inquiry since Faspay last answered about this bill (None while it answers),
    # and when finance were told it had failed for ``payments.polling.INQUIRY_ALERT_AFTER``.
    inquiry_failing_since = models.DateTimeField(_("Faspay not answering since"), null=True, blank=True,
                                                 editable=False)
    inquiry_reported_at = models.DateTimeField(_("finance told at"), null=True, blank=True, editable=False)
    # How many times Post Data was sent for this bill (a timed-out one is re-posted, same bill_no).
    creation_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        permissions = [("record_provider_payment", _("Can record a paid amount from Faspay's report")),
                       ("book_provider_reversal", _("Can book a payment the provider reversed"))]
        constraints = [
            models.UniqueConstraint(
                fields=["escrow_transaction"], condition=models.Q(status__in=["creating", "pending"]),
                name="one_open_bill_per_transaction",
            ),
            models.UniqueConstraint(
                fields=["amount"], condition=models.Q(method=Method.BANK_TRANSFER, status="pending"),
                name="bank_transfer_amounts_unique_while_open",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="bill_amount_positive"),
        ]
        # Finance's queue "Faspay does not answer" (``escrow.admin.bills``): a few rows of a large table.
        indexes = [models.Index(fields=["inquiry_reported_at"], condition=models.Q(inquiry_reported_at__isnull=False),
                                name="bill_inquiry_reported")]

    def __str__(self) -> str:
        return f"{self.bill_no} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.CREATING, self.Status.PENDING)

    @property
    def inquiry_unanswered(self) -> bool:
        """In finance's queue "Faspay does not answer" (``payments.selectors.INQUIRY_UNANSWERED``)."""
        return self.inquiry_reported_at is not None and self.next_check_at is not None

    @property
    def creation_unconfirmed(self) -> bool:
        """Post Data was sent and Faspay never told us the trx_id: the bill may exist there."""
        return not self.provider_trx_id and self.channel_code != "transfer" and self.creation_attempts > 0

    @property
    def amount_known(self) -> bool:
        return self.paid_amount is not None and self.amount_source != self.AmountSource.NONE

    # --- transitions ---------------------------------------------------------------------------
    # Bodies are empty on purpose: ``payments.services`` sets the fields and writes the ledger
    # entries in the same database transaction, with the rows locked.

    @transition(field=status, source=Status.CREATING, target=Status.PENDING)
    def record_created(self):
        """Faspay answered Post Data: the bill exists and the buyer can pay it."""

    @transition(field=status, source=Status.CREATING, target=Status.FAILED)
    def record_refused(self):
        """Faspay refused Post Data: nothing the buyer can pay was created."""

    @transition(field=status, source=[Status.CREATING, Status.PENDING], target=Status.CANCELLED)
    def cancel(self):
        """INTRASA no longer wants it paid (another method chosen, the transaction paid or closed),
        or Faspay reports it cancelled. A payment made anyway is still placed."""

    @transition(field=status, source=[Status.CREATING, Status.PENDING, Status.CANCELLED], target=Status.EXPIRED)
    def expire(self):
        """Past its expiry at Faspay: it can no longer be paid."""

    @transition(field=status, source=[Status.CREATING, Status.PENDING, Status.CANCELLED, Status.EXPIRED,
                                      Status.FAILED], target=Status.PAID)
    def mark_paid(self):
        """Faspay says the bill was paid (notification, status inquiry, or a re-posted Post Data
        answering "already paid"); for a bank transfer, the imported bank statement says so."""

    @transition(field=status, source=Status.PAID, target=Status.VERIFIED)
    def settle(self):
        """The paid amount is known from a source that states it and the money is in the ledger:
        held in escrow, or owed back to the buyer."""

    @transition(field=status, source=[Status.PAID, Status.VERIFIED], target=Status.REVERSED)
    def book_reversal(self):
        """Faspay reported the payment reversed (the bill is flagged) and staff booked it: the money is
        out of the clearing account, taken from the escrow hold or owed to INTRASA to recover."""


class ProviderNotification(models.Model):
    """A payment notification exactly as received, stored once per (trx_id, status): Faspay retries
    up to three times and may repeat itself; the second copy changes nothing."""

    provider = models.CharField(max_length=20, default="faspay")
    trx_id = models.CharField(max_length=40)
    bill_no = models.CharField(max_length=32, db_index=True)
    status_code = models.CharField(max_length=4)
    payload = models.JSONField()
    bill = models.ForeignKey(Bill, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications")
    received_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("provider notification")
        verbose_name_plural = _("provider notifications")
        constraints = [
            models.UniqueConstraint(fields=["provider", "trx_id", "status_code"], name="one_notification_per_status"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.trx_id} status {self.status_code}"


class BankStatementLine(models.Model):
    """A credit line of INTRASA's escrow bank account, imported by finance from the bank's CSV.

    Bank transfers are verified only from these lines, never from a buyer's screenshot.
    """

    booked_on = models.DateField(_("booked on"))
    description = models.CharField(_("description"), max_length=255)
    amount = models.BigIntegerField(_("amount"))
    bank_reference = models.CharField(_("bank reference"), max_length=100)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("imported by"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    matched_bill = models.OneToOneField(Bill, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="statement_line", verbose_name=_("matched bill"))
    # A line no bill claimed is booked to the suspense account as it is imported, then matched by
    # staff to the transaction of whoever sent it (with the reason), which makes it owed back.
    suspense_booked_at = models.DateTimeField(_("booked to suspense at"), null=True, blank=True)
    assigned_transaction = models.ForeignKey("transactions.EscrowTransaction", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+",
                                             verbose_name=_("matched to transaction"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("matched by"))
    assigned_at = models.DateTimeField(_("matched at"), null=True, blank=True)
    assigned_reason = models.TextField(_("why this payer"), blank=True)

    class Meta:
        ordering = ["-booked_on", "-id"]
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        constraints = [
            models.UniqueConstraint(fields=["bank_reference", "booked_on", "amount"], name="statement_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.amount} {self.bank_reference}"


class BillShare(models.Model):
    """One transaction's part of a bill that pays several transactions at once.

    A milestone plan paid up front is one bill for all its milestones (``milestones.apps`` tells
    ``payments.services`` which transactions are billed together): the buyer pays once, and the
    payment funds each milestone's own escrow hold with its own journal entry. The bill belongs to
    the first of them (``Bill.escrow_transaction``, which numbers it); its shares name every
    transaction it pays, the first one included. An ordinary bill has no shares.

    ``amount`` is the cash the bill collects for the transaction: its amount due, less the bill's
    unique code on the first share (a bank transfer's code is INTRASA's discount, booked with the
    first milestone's hold). When the bill is placed, ``collected`` records the cash booked for the
    transaction (held, or owed back to the buyer) and ``held`` whether it funded its escrow: the
    ledger checks and the refund policy read these per transaction, as they read an ordinary bill.
    """

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="shares", verbose_name=_("bill"))
    escrow_transaction = models.ForeignKey("transactions.EscrowTransaction", on_delete=models.PROTECT,
                                           related_name="bill_shares", verbose_name=_("transaction"))
    amount = models.BigIntegerField(_("amount"))
    collected = models.BigIntegerField(_("collected"), null=True, blank=True)
    held = models.BooleanField(_("held in escrow"), default=False)

    class Meta:
        ordering = ["bill", "pk"]
        verbose_name = _("share of a bill")
        verbose_name_plural = _("shares of a bill")
        constraints = [
            models.UniqueConstraint(fields=["bill", "escrow_transaction"], name="bill_share_once_per_transaction"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="bill_share_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.bill_id}/{self.escrow_transaction_id}: {self.amount}"
