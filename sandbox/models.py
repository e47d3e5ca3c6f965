"""State of the Faspay stand-in. Every table is ``sandbox_*``; nothing here touches INTRASA's.

Amounts are whole Rupiah (``BigIntegerField``), like the rest of the project. The Faspay Debit
``bill_total`` is stored as received (in the units the merchant sent, see
``SandboxConfig.debit_amount_scale``).
"""
from django.db import models

# The formats Faspay posts a payment notification in (JSON or XML), and form encoding.
NOTIFICATION_FORMATS = (("json", "JSON"), ("xml", "XML"), ("form", "Form-encoded"))


class SandboxConfig(models.Model):
    """The one row of knobs the control page turns (``SandboxConfig.get()``)."""

    settle_delay_seconds = models.PositiveIntegerField(
        default=10, help_text="Seconds a transfer stays 03 (pending) before it settles.")
    reverse_delay_seconds = models.PositiveIntegerField(
        default=10, help_text="Seconds after success before a 'reverse' test account turns 04.")
    callback_max_attempts = models.PositiveIntegerField(default=3)
    callback_retry_seconds = models.PositiveIntegerField(default=5)
    timestamp_skew_seconds = models.PositiveIntegerField(default=300)
    bank_transfer_limit = models.BigIntegerField(default=50_000_000)
    ewallet_topup_limit = models.BigIntegerField(default=5_000_000)
    debit_amount_scale = models.PositiveIntegerField(
        default=1, help_text="bill_total units per Rupiah: 1 = whole Rupiah, 100 = 2 implied decimals.")
    notification_url = models.URLField(
        max_length=500, blank=True, help_text="Payment notifications; blank = the settings default.")
    notification_format = models.CharField(
        max_length=4, choices=NOTIFICATION_FORMATS, default="json",
        help_text="Body of payment notifications (a bill may choose its own).")
    qris_content = models.BooleanField(
        default=True, help_text="QRIS Post Data answers carry qr_content; off = only redirect_url "
                                "(REFERENCE §4.1: the QR content comes on some channels only).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sandbox configuration"

    def __str__(self):
        return "Sandbox configuration"

    @classmethod
    def get(cls) -> "SandboxConfig":
        config, _ = cls.objects.get_or_create(pk=1)
        return config


class DepositAccount(models.Model):
    """The merchant's SendMe deposit (source virtual account) and its balance."""

    account_no = models.CharField(max_length=34, unique=True)
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.account_no}: {self.balance}"


class DepositMovement(models.Model):
    """One line of the deposit's history (transaction-history-list)."""

    class Direction(models.TextChoices):
        DEBIT = "D", "Debit"
        CREDIT = "K", "Credit"

    account = models.ForeignKey(DepositAccount, on_delete=models.CASCADE, related_name="movements")
    direction = models.CharField(max_length=1, choices=Direction.choices)
    amount = models.BigIntegerField()
    remark = models.CharField(max_length=200)
    kind = models.CharField(max_length=30)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.direction} {self.amount} {self.remark}"


class ExternalId(models.Model):
    """X-EXTERNAL-ID seen per partner and WIB day (409xx00 on reuse)."""

    partner_id = models.CharField(max_length=36)
    external_id = models.CharField(max_length=36)
    day = models.DateField()
    path = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner_id", "external_id", "day"],
                                               name="sandbox_external_id_unique_per_day")]

    def __str__(self):
        return f"{self.partner_id}/{self.external_id}@{self.day}"


class Transfer(models.Model):
    """A SendMe bank transfer (service 18) or e-money top-up (service 38)."""

    class Kind(models.TextChoices):
        BANK = "bank", "Bank transfer"
        EMONEY = "emoney", "E-wallet top-up"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    partner_reference_no = models.CharField(max_length=64, unique=True)
    reference_no = models.CharField(max_length=32, unique=True)
    fingerprint = models.CharField(max_length=64)
    amount = models.BigIntegerField()
    beneficiary_account_no = models.CharField(max_length=34)
    beneficiary_bank_code = models.CharField(max_length=8, blank=True)
    beneficiary_account_name = models.CharField(max_length=100, blank=True)
    source_account_no = models.CharField(max_length=34)
    platform_code = models.CharField(max_length=10, blank=True)
    scenario = models.CharField(max_length=20, default="success")
    status = models.CharField(max_length=2, default="03")
    status_changed_at = models.DateTimeField()
    settle_at = models.DateTimeField(db_index=True)
    reverse_at = models.DateTimeField(null=True, blank=True)
    callback_url = models.CharField(max_length=500, blank=True)
    transaction_date = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=200, blank=True)
    request_payload = models.JSONField(default=dict)
    refunded = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(
        default=1, help_text="1 + the retries accepted under the same partnerReferenceNo after a 06 Failed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.partner_reference_no} {self.status}"

    @property
    def service_code(self) -> str:
        return "18" if self.kind == self.Kind.BANK else "38"


class Bill(models.Model):
    """A Faspay Debit bill created by Post Data Transaction (``/cvr/300011/10``)."""

    trx_id = models.CharField(max_length=20, unique=True)
    merchant_id = models.CharField(max_length=10)
    bill_no = models.CharField(max_length=32)
    bill_total = models.BigIntegerField()
    payment_channel = models.CharField(max_length=5)
    channel_kind = models.CharField(max_length=10)
    pay_code = models.CharField(max_length=30, blank=True)
    qr_content = models.TextField(blank=True)
    bill_expired = models.DateTimeField()
    status_code = models.CharField(max_length=2, default="0")
    payment_reff = models.CharField(max_length=32, blank=True)
    payment_date = models.DateTimeField(null=True, blank=True)
    payment_total = models.BigIntegerField(null=True, blank=True)
    notification_url = models.CharField(max_length=500, blank=True)
    notification_format = models.CharField(max_length=4, choices=NOTIFICATION_FORMATS, blank=True,
                                           help_text="Blank = the configured format.")
    cust_name = models.CharField(max_length=128, blank=True)
    bill_desc = models.CharField(max_length=200, blank=True)
    request_payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["merchant_id", "bill_no"],
                                               name="sandbox_bill_no_unique_per_merchant")]

    def __str__(self):
        return f"{self.bill_no} ({self.trx_id})"


class Callback(models.Model):
    """An outbound delivery: a Debit payment notification or a SendMe callback.

    One row per message; ``attempts`` counts HTTP tries. Delivery is by Celery task
    (``sandbox.tasks.deliver_callback``) with the periodic sweep as a safety net.
    """

    class Kind(models.TextChoices):
        DEBIT = "debit", "Payment notification"
        SENDME = "sendme", "SendMe callback"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        HELD = "held", "Held (reordered)"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"
        DROPPED = "dropped", "Dropped (fault)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    url = models.CharField(max_length=500)
    payload = models.JSONField()
    bill = models.ForeignKey(Bill, null=True, blank=True, on_delete=models.CASCADE)
    transfer = models.ForeignKey(Transfer, null=True, blank=True, on_delete=models.CASCADE)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_status = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    log = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} → {self.url} ({self.state})"


class Fault(models.Model):
    """A fault rule: applies to calls whose operation name starts with ``scope``.

    Operation names: ``debit.post``, ``debit.inquiry``, ``debit.cancel``,
    ``sendme.<endpoint>`` (e.g. ``sendme.transfer-interbank``), ``callback.debit``,
    ``callback.sendme``. An empty scope matches everything of the kind's family.
    """

    class Kind(models.TextChoices):
        LATENCY = "latency", "Latency (answer after N seconds)"
        TIMEOUT = "timeout", "Timeout (no answer for N seconds, then 504)"
        HTTP_500 = "http_500", "HTTP 500"
        HTTP_504 = "http_504", "HTTP 504"
        HTTP_429 = "http_429", "HTTP 429 Too Many Requests (not processed: resend)"
        CALLBACK_DROP = "callback_drop", "Callback dropped"
        CALLBACK_DELAY = "callback_delay", "Callback delayed N seconds"
        CALLBACK_DUPLICATE = "callback_duplicate", "Callback sent twice"
        CALLBACK_REORDER = "callback_reorder", "Callback held until the next one is sent"
        TRANSFER_FAIL = "transfer_fail", "Accepted transfer/top-up settles as 06 Failed (once per hit)"

    CALLBACK_KINDS = {Kind.CALLBACK_DROP, Kind.CALLBACK_DELAY, Kind.CALLBACK_DUPLICATE,
                      Kind.CALLBACK_REORDER}

    scope = models.CharField(max_length=60, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    remaining = models.PositiveIntegerField(null=True, blank=True, help_text="Blank = no limit.")
    ratio = models.FloatField(default=1.0)
    seconds = models.FloatField(default=0)
    after_processing = models.BooleanField(
        default=False, help_text="For 500/504/timeout: process the request first, then fail.")
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} on {self.scope or '*'}"


class RegisteredAccount(models.Model):
    """A holder name the control page registered for an account or e-wallet number, so that the
    account inquiry answers with the name a test (or the demo) expects."""

    number = models.CharField(max_length=20, unique=True)
    holder_name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.number}: {self.holder_name}"


class Shipment(models.Model):
    """A parcel the tracking sandbox knows: its scripted courier events (``sandbox.tracking``).
    ``events`` is a list of ``{"code", "at", "location", "description"}``; only events whose time has
    come are answered, so a script plays out in real time."""

    courier = models.CharField(max_length=20)
    receipt_number = models.CharField(max_length=50)
    events = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["courier", "receipt_number"], name="sandbox_shipment_once")]

    def __str__(self) -> str:
        return f"{self.courier} {self.receipt_number}"
