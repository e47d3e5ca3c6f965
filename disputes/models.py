"""Disputes (claims), their message thread, evidence and settlement offers.

The money side of a dispute lives on the transaction (state ``disputed`` freezes the escrow hold);
these models hold the conversation around it. Rules (reasons, deadlines, who bears what) are in
``refunds.policy``; every change goes through ``disputes.services``.
"""
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from intrasa.uploads import private_storage
from refunds.policy import DisputeReason, ReturnShippingPayer


class Dispute(ConcurrentTransitionMixin, models.Model):
    """A buyer's claim about one transaction: open (the parties talk), escalated (staff decide),
    resolved. A state machine; ``disputes.services`` runs the transitions with the rows locked."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open: the parties are talking")
        ESCALATED = "escalated", _("Waiting for an INTRASA decision")
        RESOLVED = "resolved", _("Resolved")

    class Outcome(models.TextChoices):
        NONE = "", _("Not yet")
        RELEASE = "release", _("Released to the seller")
        REFUND = "refund", _("Refunded to the buyer in full")
        SPLIT = "split", _("Split between buyer and seller")
        # The provider took the payment back: the buyer has the money, nothing is left to decide.
        TAKEN_BACK = "taken_back", _("Returned to the buyer by the payment provider")

    escrow_transaction = models.OneToOneField(
        "transactions.EscrowTransaction", on_delete=models.PROTECT, related_name="dispute",
        verbose_name=_("transaction"))
    reason = models.CharField(_("reason"), max_length=20, choices=DisputeReason.choices, db_index=True)
    description = models.TextField(_("description"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("opened by"))
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN, protected=True,
                      db_index=True)
    # The seller's first answer (a message or an offer) is due by then, else staff take over.
    seller_reply_due_at = models.DateTimeField(_("seller replies by"), null=True, blank=True)
    seller_replied_at = models.DateTimeField(_("seller replied at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("sent to staff at"), null=True, blank=True)
    escalation_reason = models.CharField(_("why staff were asked"), max_length=255, blank=True)
    # Staff decide by then (SLA); breached when still unresolved after it.
    staff_due_at = models.DateTimeField(_("staff decide by"), null=True, blank=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")
    buyer_amount = models.BigIntegerField(_("amount to the buyer"), null=True, blank=True)
    return_shipping_payer = models.CharField(_("return shipping"), max_length=10,
                                             choices=ReturnShippingPayer.choices, blank=True)
    resolution_reason = models.TextField(_("resolution reason"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("resolved by"))
    by_agreement = models.BooleanField(_("resolved by agreement"), default=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.escrow_transaction.reference} · {self.get_reason_display()}"

    # --- transitions (bodies empty: disputes.services sets the fields) --------------------------

    @transition(field=status, source=Status.OPEN, target=Status.ESCALATED)
    def escalate(self):
        """Nobody answered in time, or the claim needs INTRASA to verify it: staff decide."""

    @transition(field=status, source=[Status.OPEN, Status.ESCALATED], target=Status.RESOLVED)
    def resolve(self):
        """Ended by agreement or by staff: the money was released, refunded or split."""

    def get_absolute_url(self) -> str:
        return reverse("disputes:detail", kwargs={"reference": self.escrow_transaction.reference})

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED

    @property
    def seller_may_still_reply(self) -> bool:
        """Open, the seller has not answered yet, and their reply deadline has not passed: a staff
        decision now would come before the seller was heard."""
        return (self.status == self.Status.OPEN and self.seller_replied_at is None
                and self.seller_reply_due_at is not None and self.seller_reply_due_at > timezone.now())

    @property
    def sla_breached(self) -> bool:
        return self.is_open and self.staff_due_at is not None and self.staff_due_at < timezone.now()


class PartyRole(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    STAFF = "staff", _("INTRASA staff")
    SYSTEM = "system", _("System")


class DisputeMessage(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="messages",
                                verbose_name=_("dispute"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("author"))
    role = models.CharField(_("role"), max_length=10, choices=PartyRole.choices)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.body[:50]}"


class Evidence(models.Model):
    """One uploaded file. Immutable: a wrong file is answered with another one, not replaced."""

    class Purpose(models.TextChoices):
        PHOTO = "photo", _("Photo")
        VIDEO = "video", _("Video")
        DOCUMENT = "document", _("Document")
        COURIER_RECEIPT = "courier_receipt", _("Courier receipt")

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="evidence",
                                verbose_name=_("dispute"))
    message = models.ForeignKey(DisputeMessage, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="attachments", verbose_name=_("message"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("uploaded by"))
    role = models.CharField(_("role"), max_length=10, choices=PartyRole.choices)
    purpose = models.CharField(_("what it shows"), max_length=20, choices=Purpose.choices)
    file = models.FileField(_("file"), storage=private_storage, upload_to="disputes", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    # Of the stored file (what is downloaded); the original as uploaded is not kept, only its hash
    # (intrasa.uploads: images are re-encoded without their metadata).
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_sha256 = models.CharField(_("SHA-256 of the file as uploaded"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("disputes:evidence", kwargs={"pk": self.pk})


class SettlementOffer(ConcurrentTransitionMixin, models.Model):
    class Outcome(models.TextChoices):
        RELEASE = "release", _("Release everything to the seller")
        REFUND = "refund", _("Refund the buyer in full")
        SPLIT = "split", _("Split: an amount to the buyer, the rest to the seller")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Replaced by a newer offer")
        EXPIRED = "expired", _("No answer in time: sent to staff")
        CLOSED = "closed", _("Closed: the dispute was resolved")

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="offers",
                                verbose_name=_("dispute"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("proposed by"))
    role = models.CharField(_("role"), max_length=10, choices=PartyRole.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    buyer_amount = models.BigIntegerField(_("amount to the buyer"))
    return_shipping_payer = models.CharField(_("return shipping"), max_length=10,
                                             choices=ReturnShippingPayer.choices,
                                             default=ReturnShippingPayer.NONE)
    note = models.TextField(_("note"), blank=True)
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING, protected=True,
                      db_index=True)
    respond_by = models.DateTimeField(_("answer by"), db_index=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("answered by"))
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    response_note = models.TextField(_("answer"), blank=True)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("settlement offer")
        verbose_name_plural = _("settlement offers")
        constraints = [
            models.CheckConstraint(condition=models.Q(buyer_amount__gte=0), name="offer_buyer_amount_not_negative"),
            models.UniqueConstraint(fields=["dispute"], condition=models.Q(status="pending"),
                                    name="one_pending_offer_per_dispute"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.get_status_display()})"

    # --- transitions (bodies empty: disputes.services sets the fields) --------------------------
    # Offers that a newer offer replaces, that expire or that the resolution closes change in bulk
    # (``disputes.services``), from pending only, with the dispute locked.

    @transition(field=status, source=Status.PENDING, target=Status.ACCEPTED)
    def accept(self):
        """The other party agreed: the dispute is resolved by this settlement."""

    @transition(field=status, source=Status.PENDING, target=Status.REJECTED)
    def reject(self):
        """The other party said no; the dispute goes on."""

