"""Withdrawal instructions from the SendMe deposit and the reconciliation work list.

Both are staff records, not money movements: a withdrawal is given to Faspay by finance (the
merchant dashboard for domestic, email to finance@faspay.co.id for overseas, terms A/B) and this
row is the record of what was instructed, with the fee, the processing day and the rate time the
rules computed. A reconciliation item is evidence of a difference between INTRASA and a provider;
resolving it is a staff decision made elsewhere through the owning app's services.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class WithdrawalInstruction(ConcurrentTransitionMixin, models.Model):
    """A state machine: prepared → given to Faspay, or prepared → cancelled (status protected)."""

    class Kind(models.TextChoices):
        DOMESTIC = "domestic", _("To INTRASA's domestic bank account (terms A)")
        OVERSEAS = "overseas", _("To an overseas bank account (terms B)")

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Prepared: give it to Faspay")
        GIVEN = "given", _("Given to Faspay")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"))
    fee = models.BigIntegerField(_("withdrawal fee"))
    vat = models.BigIntegerField(_("VAT on the fee"))
    vat_basis_points = models.PositiveIntegerField(_("VAT rate (basis points)"))
    balance_needed = models.BigIntegerField(_("taken from the SendMe deposit"))
    instructed_at = models.DateTimeField(_("instructed at"))
    processing_date = models.DateField(_("processing day"))
    # Overseas only: the rate of 10.00 WIB on the processing day applies; finance notes it.
    rate_time = models.DateTimeField(_("exchange rate of"), null=True, blank=True)
    # Overseas only: terms B, at most 5 Business Days after processing.
    arrive_by = models.DateField(_("arrives by"), null=True, blank=True)
    exchange_rate = models.CharField(_("exchange rate noted"), max_length=40, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100)
    account_number = models.CharField(_("account number"), max_length=40)
    account_holder = models.CharField(_("account holder"), max_length=100)
    swift_code = models.CharField(_("SWIFT/BIC"), max_length=11, blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True)
    currency = models.CharField(_("currency received"), max_length=3, blank=True)
    reason = models.TextField(_("reason"))
    status = FSMField(_("status"), max_length=10, choices=Status.choices, default=Status.PREPARED,
                      protected=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    given_at = models.DateTimeField(_("given at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("withdrawal instruction")
        verbose_name_plural = _("withdrawal instructions")
        permissions = [
            ("view_treasury", _("Can view the SendMe treasury")),
            ("export_data", _("Can export transactions, disbursements and ledger entries")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="withdrawal_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(balance_needed=models.F("amount") + models.F("fee") + models.F("vat")),
                name="withdrawal_balance_adds_up"),
            models.CheckConstraint(
                condition=~models.Q(kind="domestic") | models.Q(amount__lte=50_000_000),
                name="withdrawal_domestic_maximum"),
            models.CheckConstraint(
                condition=~models.Q(kind="overseas") | models.Q(amount__gte=500_000),
                name="withdrawal_overseas_minimum"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} Rp {self.amount} ({self.processing_date})"

    @transition(field=status, source=Status.PREPARED, target=Status.GIVEN)
    def give(self, *, at, processing_date, rate_time=None, arrive_by=None, exchange_rate=""):
        """Finance gave the instruction to Faspay (overseas: with the rate of the day noted). The
        12.00 WIB cut-off counts from this moment, not from when the row was prepared: the
        processing day, the rate time and the arrival are those of ``at``."""
        self.given_at = at
        self.processing_date = processing_date
        self.rate_time = rate_time
        self.arrive_by = arrive_by
        self.exchange_rate = exchange_rate.strip()[:40]

    @transition(field=status, source=Status.PREPARED, target=Status.CANCELLED)
    def cancel(self):
        """Never given to Faspay: nothing was booked, nothing to undo."""


class ReconciliationItem(models.Model):
    """One difference the nightly reconciliation found, with the evidence. Re-running the job for
    the same day updates the evidence of an existing item instead of adding a duplicate."""

    class Source(models.TextChoices):
        FASPAY_DEBIT = "faspay_debit", _("Faspay payment status")
        SENDME_STATUS = "sendme_status", _("SendMe transfer status")
        SENDME_HISTORY = "sendme_history", _("SendMe mutation history")
        COLLECTIONS_CHECK = "collections_check", _("INTRASA's collections cross-checks")
        FASPAY_INVOICE = "faspay_invoice", _("Faspay's monthly invoice")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    day = models.DateField(_("day (WIB)"), db_index=True)
    source = models.CharField(_("compared with"), max_length=20, choices=Source.choices)
    code = models.CharField(_("difference"), max_length=40, db_index=True)
    reference = models.CharField(_("reference"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    local_status = models.CharField(_("INTRASA says"), max_length=40, blank=True)
    provider_status = models.CharField(_("provider says"), max_length=40, blank=True)
    amount = models.BigIntegerField(_("amount"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("resolved by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now=True)

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name = _("reconciliation item")
        verbose_name_plural = _("reconciliation items")
        constraints = [
            models.UniqueConstraint(fields=["day", "source", "reference", "code"], name="reconciliation_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.reference}: {self.code}"


class FaspayInvoice(models.Model):
    """A Faspay invoice as finance entered it: the SendMe transactions it counts for a month and
    the penalty it charges for a period (terms C). ``treasury.services.faspay_invoice_record``
    compares it with INTRASA's own count and forecast; each difference is a reconciliation item."""

    month = models.DateField(_("month"), help_text=_("First day of the month invoiced."))
    transactions = models.PositiveIntegerField(_("transactions invoiced"))
    penalty = models.BigIntegerField(_("penalty invoiced"), default=0)
    penalty_period_start = models.DateField(_("penalty period from"), null=True, blank=True)
    penalty_period_end = models.DateField(_("penalty period to"), null=True, blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=60)
    note = models.TextField(_("note"), blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("entered by"))
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["-month", "-id"]
        verbose_name = _("Faspay invoice")
        verbose_name_plural = _("Faspay invoices")
        constraints = [
            models.UniqueConstraint(fields=["invoice_number"], name="faspay_invoice_number_once"),
            models.CheckConstraint(condition=models.Q(penalty__gte=0), name="faspay_invoice_penalty_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_number} ({self.month:%m/%Y})"
