"""A seller's reusable payment link ("iPhone 11 bekas, Rp 2.750.000 + ongkir").

The link holds the terms of a transaction without a buyer. Each buyer who opens it and presses
"Buy" starts their own escrow transaction with those terms (``paylinks.services.payment_link_start``):
the ordinary ``transactions.services.transaction_create`` followed by ``transaction_accept``, so the
transaction is in every way a normal one (payment, shipping, confirmation, disputes, payouts).

Shipping ("ongkir"): the amount a buyer pays is fixed when the transaction starts, so a link carries
one flat shipping cost, as the create form does (0: included in the price, or free). A seller whose
ongkir depends on the buyer's address agrees it in the chat and sends an ordinary invitation instead.

The link's status is a protected state machine: ``active`` ⇄ ``paused`` → ``closed`` (final).
"""
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from transactions.models import Category, FeePayerChoice


def _new_token() -> str:
    # 64 random bits: short enough for a bio or a printed QR code, not guessable.
    return secrets.token_urlsafe(8)


class PaymentLink(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    token = models.CharField(max_length=32, unique=True, default=_new_token, editable=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_links",
                               verbose_name=_("seller"))
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"))
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    price = models.BigIntegerField(_("price"))
    shipping_cost = models.BigIntegerField(_("shipping cost"), default=0)
    fee_payer = models.CharField(_("service fee paid by"), max_length=10, choices=FeePayerChoice.choices)
    inspection_days = models.PositiveSmallIntegerField(_("inspection period (working days)"))
    shipping_days = models.PositiveSmallIntegerField(_("ship within (working days after payment)"))
    accepts_returns = models.BooleanField(_("accepts non-defect returns"), default=False)
    restocking_fee_basis_points = models.PositiveIntegerField(_("restocking fee (basis points)"), default=0)
    is_licence_or_voucher = models.BooleanField(_("licence key or voucher code"), default=False)
    # How many transactions the link may start (None: no limit). Transactions that ended unpaid
    # (cancelled, expired) do not count: the item is still for sale.
    max_transactions = models.PositiveIntegerField(_("most transactions"), null=True, blank=True)
    status = FSMField(_("status"), default=Status.ACTIVE, choices=Status.choices, protected=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment link")
        verbose_name_plural = _("payment links")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="payment_link_price_positive"),
            models.CheckConstraint(condition=models.Q(shipping_cost__gte=0), name="payment_link_shipping_not_negative"),
            models.CheckConstraint(condition=models.Q(max_transactions__isnull=True) | models.Q(max_transactions__gte=1),
                                   name="payment_link_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.token})"

    @property
    def audit_label(self) -> str:
        """The link in the audit trail, without the seller's title (``audit.services.audit_record``)."""
        return f"{self._meta.verbose_name} {self.token}"

    def get_absolute_url(self) -> str:
        return reverse("paylinks:public", kwargs={"token": self.token})

    @property
    def value(self) -> int:
        return self.price + self.shipping_cost

    # Bodies are empty on purpose: ``paylinks.services`` locks the row, saves it and audits.
    @transition(field=status, source=Status.ACTIVE, target=Status.PAUSED)
    def pause(self):
        """The seller stops new transactions for a while (out of stock until Monday)."""

    @transition(field=status, source=Status.PAUSED, target=Status.ACTIVE)
    def resume(self):
        """The seller opens the link again."""

    @transition(field=status, source=[Status.ACTIVE, Status.PAUSED], target=Status.CLOSED)
    def close(self):
        """The seller ends the link for good; transactions it started go on as they are."""


class PaymentLinkUse(models.Model):
    """One transaction a payment link started, and for whom."""

    payment_link = models.ForeignKey(PaymentLink, on_delete=models.PROTECT, related_name="uses",
                                     verbose_name=_("payment link"))
    escrow_transaction = models.OneToOneField("transactions.EscrowTransaction", on_delete=models.PROTECT,
                                              related_name="payment_link_use", verbose_name=_("transaction"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("buyer"))
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transaction started by a payment link")
        verbose_name_plural = _("transactions started by payment links")

    def __str__(self) -> str:
        return f"{self.payment_link.token} → {self.escrow_transaction_id}"
