"""Partners of the API, their keys, the sellers who linked their account, and webhook events.

Secrets are never stored in a form that gives them back: an API key is kept as the SHA-256 of its
random secret (a 256-bit random value needs no slow hash: nobody can guess it, and the digest is
compared in constant time), and an authorization code likewise. The webhook signing secret is the
exception by nature: INTRASA must sign with it, so it is stored, and shown to staff only when it is
made or rotated.

Rows change only through ``partners.services``.
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What a key may do. A key carries a subset; every endpoint names the scope it needs.
SCOPE_TRANSACTIONS_READ = "transactions:read"
SCOPE_TRANSACTIONS_WRITE = "transactions:write"
SCOPE_WEBHOOKS_READ = "webhooks:read"
SCOPE_WEBHOOKS_WRITE = "webhooks:write"
KEY_SCOPES = {
    SCOPE_TRANSACTIONS_READ: _("Read the partner's transactions and their timelines"),
    SCOPE_TRANSACTIONS_WRITE: _("Create and cancel transactions for linked sellers"),
    SCOPE_WEBHOOKS_READ: _("Read webhook events and delivery attempts"),
    SCOPE_WEBHOOKS_WRITE: _("Ask for a webhook event to be delivered again"),
}
# What a seller grants a partner on the consent page (a subset of the key scopes).
LINK_SCOPES = {
    SCOPE_TRANSACTIONS_READ: _("See the status and timeline of the transactions it created for you"),
    SCOPE_TRANSACTIONS_WRITE: _("Create transactions in your name and cancel them before the buyer pays"),
}


class Partner(models.Model):
    """A forum or marketplace registered by staff."""

    name = models.CharField(_("name"), max_length=100)
    client_id = models.CharField(_("client id"), max_length=40, unique=True, editable=False)
    website = models.URLField(_("website"), blank=True)
    redirect_uris = models.TextField(
        _("redirect URIs"), help_text=_("One per line. The consent page returns the seller only to one of these, "
                                        "exactly as written."))
    webhook_url = models.URLField(_("webhook URL"), blank=True, max_length=500)
    webhook_secret = models.CharField(max_length=80, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name

    @property
    def redirect_uri_list(self) -> list[str]:
        return [line.strip() for line in self.redirect_uris.splitlines() if line.strip()]


class ApiKey(models.Model):
    """One API key of a partner: ``intrasa_<prefix>_<secret>``; the prefix finds the row, the
    secret's SHA-256 proves it."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("partner"))
    label = models.CharField(_("label"), max_length=100, blank=True)
    prefix = models.CharField(_("key id"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A rotated key keeps working until ``expires_at`` (a grace period to deploy the new one).
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"intrasa_{self.prefix}_…"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now) and self.partner.is_active


class SellerLink(models.Model):
    """A seller's consent: the partner may act for them within ``scopes`` until revoked."""

    public_id = models.UUIDField(_("link id"), default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="links", verbose_name=_("partner"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner_links",
                             verbose_name=_("seller"))
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("seller link")
        verbose_name_plural = _("seller links")
        constraints = [
            models.UniqueConstraint(fields=["partner", "user"], condition=models.Q(revoked_at__isnull=True),
                                    name="one_live_link_per_partner_and_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} ↔ {self.user}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def lets_partner_read(self) -> bool:
        """The seller's consent to reading, by request or by webhook: ``transactions:read`` among the
        scopes as last approved. A revoked link keeps them: the partner may still follow the
        transactions it made (``services.link_revoke``). ``selectors.readable`` is the same rule as a filter."""
        return SCOPE_TRANSACTIONS_READ in self.scopes


class AuthorizationCode(models.Model):
    """The short-lived, single-use code the consent page hands back through the partner's redirect
    URI; the partner exchanges it (with its API key) for the link id."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(SellerLink, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("authorization code")
        verbose_name_plural = _("authorization codes")


class PartnerTransaction(models.Model):
    """An escrow transaction a partner created through the API, and its webhook sequence."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="transactions",
                                verbose_name=_("partner"))
    link = models.ForeignKey(SellerLink, on_delete=models.PROTECT, related_name="transactions",
                             verbose_name=_("seller link"))
    escrow_transaction = models.OneToOneField("transactions.EscrowTransaction", on_delete=models.PROTECT,
                                              related_name="partner_transaction", verbose_name=_("transaction"))
    external_id = models.CharField(_("partner's own id"), max_length=100, blank=True)
    # The last webhook sequence number given out for this transaction (1, 2, 3…).
    last_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("partner transaction")
        verbose_name_plural = _("partner transactions")
        indexes = [models.Index(fields=["partner", "-created_at", "-id"], name="partner_txn_cursor")]

    def __str__(self) -> str:
        return f"{self.partner}: {self.escrow_transaction_id}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST with a given ``Idempotency-Key``; a retry gets it again.

    The row is inserted in the same database transaction as the work it guards, so it becomes
    visible together with the result: a concurrent copy of the request waits on the unique index
    until the first commits, then finds the answer."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["partner", "key"], name="one_answer_per_idempotency_key")]


class WebhookEvent(models.Model):
    """One transition of a partner's transaction, to be delivered to the partner's webhook URL.

    Written by the timeline listener in the same database transaction as the transition, so an
    event exists exactly when its transition committed. Delivered by ``partners.tasks`` after
    commit, in sequence order per transaction, at least once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="webhook_events",
                                verbose_name=_("partner"))
    partner_transaction = models.ForeignKey(PartnerTransaction, on_delete=models.PROTECT, related_name="events",
                                            verbose_name=_("transaction"))
    sequence = models.PositiveIntegerField(_("sequence"))
    event_type = models.CharField(_("type"), max_length=50)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    # Delivery: due at ``next_attempt_at`` until delivered (2xx) or given up.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    gave_up_at = models.DateTimeField(_("gave up at"), null=True, blank=True)

    class Meta:
        ordering = ["partner_transaction_id", "sequence"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [models.UniqueConstraint(fields=["partner_transaction", "sequence"],
                                               name="one_event_per_transaction_sequence")]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.sequence}"

    @property
    def delivery_state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.gave_up_at is not None:
            return "failed"
        return "pending"


class WebhookAttempt(models.Model):
    """One HTTP attempt to deliver an event, with the partner's answer (append-only)."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="attempts",
                              verbose_name=_("event"))
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    url = models.CharField(_("URL"), max_length=500)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_excerpt = models.TextField(_("answer (excerpt)"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["attempted_at", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
