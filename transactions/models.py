"""The escrow transaction and its state machine (DESIGN.md §5).

``created → paid → verified → shipped → confirmed → disbursed`` with the ``refunded``,
``disputed``, ``cancelled`` and ``expired`` branches. Transitions are declared once, here, with
their conditions and permissions; ``manage.py graph_transitions transactions.EscrowTransaction``
draws them. The status field is protected: only ``transactions.services`` changes it, through these
methods, with the row locked.
"""
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .delivery import DeliverySource


class Status(models.TextChoices):
    CREATED = "created", _("Awaiting payment")
    PAID = "paid", _("Payment received")
    VERIFIED = "verified", _("Payment verified")
    SHIPPED = "shipped", _("Shipped")
    CONFIRMED = "confirmed", _("Receipt confirmed")
    DISBURSED = "disbursed", _("Paid out to seller")
    REFUNDED = "refunded", _("Refunded to buyer")
    DISPUTED = "disputed", _("In dispute")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# What a refunded transaction is called until the refund transfer has succeeded.
REFUND_IN_PROGRESS = _("Refund to buyer in progress")
# Before the buyer accepts, nobody can pay yet: the transaction waits for the buyer, not for money.
AWAITING_ACCEPTANCE = _("Awaiting the buyer's acceptance")

# Buyer money sits in the transaction's escrow hold in these states and only in these.
HELD_STATES = frozenset({Status.VERIFIED, Status.SHIPPED, Status.DISPUTED})
CLOSED_STATES = frozenset({Status.DISBURSED, Status.REFUNDED, Status.CANCELLED, Status.EXPIRED})


class Category(models.TextChoices):
    PHYSICAL = "physical", _("Physical goods")
    SERVICE = "service", _("Service")
    DIGITAL = "digital", _("Digital goods")


class FeePayerChoice(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    SPLIT = "split", _("Split 50:50")


class Courier(models.TextChoices):
    """Indonesian couriers a seller can ship with."""

    JNE = "jne", "JNE"
    JNT = "jnt", "J&T Express"
    SICEPAT = "sicepat", "SiCepat"
    ANTERAJA = "anteraja", "AnterAja"
    POS = "pos", "Pos Indonesia"
    TIKI = "tiki", "TIKI"
    NINJA = "ninja", "Ninja Xpress"
    LION = "lion", "Lion Parcel"
    IDEXPRESS = "idexpress", "ID Express"
    SPX = "spx", "SPX Express"
    WAHANA = "wahana", "Wahana Express"
    SAP = "sap", "SAP Express"
    PAXEL = "paxel", "Paxel"
    GOSEND = "gosend", "GoSend"
    GRABEXPRESS = "grabexpress", "GrabExpress"
    LALAMOVE = "lalamove", "Lalamove"
    JNT_CARGO = "jnt_cargo", "J&T Cargo"


def _new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


def is_seller(instance: "EscrowTransaction", user) -> bool:
    return user is not None and user.is_authenticated and user.pk == instance.seller_id


def is_buyer(instance: "EscrowTransaction", user) -> bool:
    return user is not None and user.is_authenticated and user.pk == instance.buyer_id


def is_party(instance: "EscrowTransaction", user) -> bool:
    return is_seller(instance, user) or is_buyer(instance, user)


def can_act_as_staff(instance: "EscrowTransaction", user) -> bool:
    return user is not None and user.is_staff and user.has_perm("transactions.act_as_staff")


def can_resolve_disputes(instance: "EscrowTransaction", user) -> bool:
    return user is not None and user.is_staff and user.has_perm("transactions.resolve_dispute")


class EscrowTransaction(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(_("reference number"), max_length=18, unique=True)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales", verbose_name=_("seller")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases", null=True,
        blank=True, verbose_name=_("buyer"),
    )
    # Whom the seller invited; the buyer account is bound when the invitation is accepted.
    buyer_email = models.EmailField(_("buyer's email"), blank=True)
    buyer_phone = models.CharField(_("buyer's mobile number"), max_length=20, blank=True)
    invitation_token = models.CharField(max_length=64, unique=True, default=_new_invitation_token,
                                        editable=False)

    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"))
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)

    # Money, whole Rupiah. Fee figures are snapshots taken at creation.
    price = models.BigIntegerField(_("price"))
    shipping_cost = models.BigIntegerField(_("shipping cost"), default=0)
    fee_payer = models.CharField(_("service fee paid by"), max_length=10, choices=FeePayerChoice.choices)
    fee_amount = models.BigIntegerField(_("service fee"))
    buyer_fee = models.BigIntegerField(_("buyer's share of the fee"))
    seller_fee = models.BigIntegerField(_("seller's share of the fee"))
    amount_due = models.BigIntegerField(_("amount the buyer pays"))
    amount_received = models.BigIntegerField(_("amount received"), null=True, blank=True)

    # The seller's stated return policy for this transaction (refunds.policy: non-defect returns):
    # whether an item as described may be returned, and the restocking fee the seller chose.
    accepts_returns = models.BooleanField(_("accepts non-defect returns"), default=False)
    restocking_fee_basis_points = models.PositiveIntegerField(_("restocking fee (basis points)"), default=0)
    # Digital goods that are a licence key or voucher code (refunds.policy: the only exclusion).
    is_licence_or_voucher = models.BooleanField(_("licence key or voucher code"), default=False)
    inspection_days = models.PositiveSmallIntegerField(_("inspection period (working days)"))
    shipping_days = models.PositiveSmallIntegerField(_("ship within (working days after payment)"))

    status = FSMField(_("status"), default=Status.CREATED, choices=Status.choices, protected=True,
                      db_index=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    invitation_expires_at = models.DateTimeField(_("invitation expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    payment_due_at = models.DateTimeField(_("pay before"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    shipping_deadline = models.DateTimeField(_("ship before"), null=True, blank=True, db_index=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    courier = models.CharField(_("courier"), max_length=20, choices=Courier.choices, blank=True)
    tracking_number = models.CharField(_("receipt (resi) number"), max_length=50, blank=True)
    delivery_note = models.TextField(_("delivery note"), blank=True)
    inspection_ends_at = models.DateTimeField(_("auto-confirm at"), null=True, blank=True, db_index=True)
    # The inspection clock (transactions.delivery): when the goods count as delivered, and why.
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_source = models.CharField(_("delivery known from"), max_length=20, choices=DeliverySource.choices,
                                       blank=True)
    inspection_extended_at = models.DateTimeField(_("inspection extended at"), null=True, blank=True)
    inspection_extension_reason = models.TextField(_("why the inspection was extended"), blank=True)
    tracking_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    auto_confirmed = models.BooleanField(_("confirmed automatically"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The provider took the buyer's payment back while INTRASA held it (``take_back_payment``).
    payment_taken_back_at = models.DateTimeField(_("payment taken back by the provider at"), null=True, blank=True)
    confirm_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    shipping_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("escrow transaction")
        verbose_name_plural = _("escrow transactions")
        permissions = [
            ("resolve_dispute", _("Can resolve disputes (release, refund, split)")),
            ("act_as_staff", _("Can run staff transitions on transactions")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="price_positive"),
            models.CheckConstraint(condition=models.Q(shipping_cost__gte=0), name="shipping_not_negative"),
            models.CheckConstraint(
                condition=models.Q(fee_amount=models.F("buyer_fee") + models.F("seller_fee")),
                name="fee_shares_add_up",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    amount_due=models.F("price") + models.F("shipping_cost") + models.F("buyer_fee")
                ),
                name="amount_due_adds_up",
            ),
            models.CheckConstraint(
                condition=~models.Q(buyer=models.F("seller")), name="buyer_is_not_seller"
            ),
            models.CheckConstraint(condition=models.Q(restocking_fee_basis_points__lte=5_000),
                                   name="restocking_fee_at_most_half"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("transactions:detail", kwargs={"reference": self.reference})

    # --- derived figures -----------------------------------------------------------------------
    @property
    def value(self) -> int:
        return self.price + self.shipping_cost

    @property
    def fee(self) -> int:
        return self.fee_amount

    @property
    def buyer_pays(self) -> int:
        return self.amount_due

    @property
    def seller_receives(self) -> int:
        return self.price + self.shipping_cost - self.seller_fee

    @property
    def is_accepted(self) -> bool:
        return self.buyer_id is not None and self.accepted_at is not None

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATES

    @property
    def needs_shipping(self) -> bool:
        return self.category == Category.PHYSICAL

    @property
    def restocking_fee_percent(self) -> str:
        """The seller's restocking fee as people read it: ``"10"``, ``"2.5"``."""
        return f"{self.restocking_fee_basis_points / 100:g}"

    @property
    def buyer_refund_outstanding(self) -> int:
        """Money owed back to the buyer that has not reached them yet: the balance of the
        transaction's buyer refund payable in the ledger (it falls to zero only when the refund
        transfer succeeded). Lists annotate it (``transactions.selectors``) to save a query each."""
        cached = self.__dict__.get("_buyer_refund_outstanding")
        if cached is None:
            from ledger.models import AccountCategory
            from ledger.selectors import transaction_balances

            cached = transaction_balances(escrow_transaction=self).get(AccountCategory.BUYER_REFUND_PAYABLE, 0)
            self.__dict__["_buyer_refund_outstanding"] = cached
        return cached

    @property
    def status_label(self) -> str:
        """The status as people read it, true about the money: "refunded" only once the refund
        transfer succeeded; until then "refund in progress" (the FSM state is ``refunded`` as soon
        as the escrow hold was returned to the buyer's refund payable). Before the buyer accepts,
        it awaits the buyer's acceptance, not a payment nobody can make yet."""
        if self.status == Status.CREATED and not self.is_accepted:
            return str(AWAITING_ACCEPTANCE)
        if self.status == Status.REFUNDED and self.buyer_refund_outstanding > 0:
            return str(REFUND_IN_PROGRESS)
        return str(Status(self.status).label)

    def role_of(self, user) -> str | None:
        if is_seller(self, user):
            return "seller"
        if is_buyer(self, user):
            return "buyer"
        return None

    # --- transitions ---------------------------------------------------------------------------
    # Bodies are empty on purpose: the services set the timestamps, post the ledger entry and
    # write the timeline in the same database transaction.
    # django-fsm types conditions and permissions as callables of a plain ``models.Model``, so a
    # predicate written for EscrowTransaction is rejected (parameters are contravariant); the
    # ``type: ignore`` comments below are only for that.

    @transition(field=status, source=Status.CREATED, target=Status.PAID, conditions=[lambda t: t.is_accepted])  # type: ignore[attr-defined]
    def mark_paid(self):
        """A payment notification arrived (not yet confirmed by the provider's status inquiry)."""

    @transition(field=status, source=Status.PAID, target=Status.CREATED)
    def reopen_for_payment(self):
        """The provider confirmed less than the bill: nothing is held, the amount received is owed
        back, and the buyer may pay again (or the transaction expires)."""

    @transition(field=status, source=Status.PAID, target=Status.VERIFIED)
    def verify(self):
        """The provider's status inquiry confirmed the payment: money is held in escrow."""

    @transition(field=status, source=Status.VERIFIED, target=Status.SHIPPED, permission=is_seller)  # type: ignore[arg-type]
    def ship(self):
        """The seller shipped the goods or delivered the service."""

    @transition(field=status, source=Status.SHIPPED, target=Status.CONFIRMED, permission=is_buyer)  # type: ignore[arg-type]
    def confirm(self):
        """The buyer confirmed receipt (or the inspection period ended without a word)."""

    @transition(field=status, source=Status.CONFIRMED, target=Status.DISBURSED)
    def mark_disbursed(self):
        """Every payout part to the seller has succeeded."""

    @transition(field=status, source=Status.CREATED, target=Status.CANCELLED,
                permission=lambda t, u: is_party(t, u) or can_act_as_staff(t, u))
    def cancel(self):
        """Either party cancels (the buyer declines the invitation) before any payment."""

    @transition(field=status, source=Status.CREATED, target=Status.EXPIRED)
    def expire(self):
        """Nobody paid before the invitation or payment window ran out."""

    @transition(field=status, source=[Status.VERIFIED, Status.SHIPPED], target=Status.DISPUTED,
                permission=is_buyer)  # type: ignore[arg-type]
    def open_dispute(self):
        """The buyer raises a problem before confirming receipt: the funds freeze."""

    @transition(field=status, source=Status.DISPUTED, target=Status.CONFIRMED,
                permission=can_resolve_disputes)  # type: ignore[arg-type]
    def resolve_release(self):
        """The dispute ends in the seller's favour (or in a split): the money is released."""

    @transition(field=status, source=[Status.VERIFIED, Status.DISPUTED], target=Status.REFUNDED,
                permission=lambda t, u: (is_seller(t, u) and t.status == Status.VERIFIED)
                or can_resolve_disputes(t, u))
    def refund(self):
        """All held money goes back to the buyer: the seller cancels after payment (e.g. out of
        stock) or staff decide a dispute for the buyer."""

    @transition(field=status, source=list(HELD_STATES), target=Status.REFUNDED)
    def take_back_payment(self):
        """Faspay took the buyer's payment back (a reversal) while INTRASA held it, and staff booked it:
        the buyer has the money from the provider, so nothing is paid out, and no refund is sent."""

    @transition(field=status, source=Status.DISBURSED, target=Status.CONFIRMED)
    def payout_given_back(self):
        """The bank gave the seller's payout back after it was reported paid (SendMe 04): the money is owed
        to the seller again, and the transaction waits again for the seller's payout."""

    @transition(field=status, source=[Status.REFUNDED, Status.CONFIRMED, Status.DISBURSED], target=Status.CONFIRMED)
    def release_refused_refund(self):
        """INTRASA upheld the seller's rejection of the returned goods: the money that was owed back to
        the buyer is released to the seller as on a confirmation (``refunds.policy``: refused returns),
        and the transaction waits again for the seller's payout."""


# How the timeline names each action (the transition methods above plus non-state events).
ACTION_LABELS = {
    "created": _("Transaction created"),
    "accepted": _("Buyer accepted the terms"),
    "payment_method_chosen": _("Buyer chose a payment method"),
    "mark_paid": _("Payment received"),
    "verify": _("Payment verified"),
    "reopen_for_payment": _("Payment short: waiting for a new payment"),
    "reopen_after_reversal": _("Payment reversed by the provider before it was verified: waiting for a new payment"),
    "ship": _("Shipped / delivered"),
    "confirm": _("Receipt confirmed"),
    "mark_disbursed": _("Paid out to seller"),
    "payout_given_back": _("The bank returned the payout: to be sent again"),
    "take_back_payment": _("The payment provider returned the payment to the buyer"),
    "cancel": _("Cancelled"),
    "expire": _("Expired"),
    "open_dispute": _("Dispute opened"),
    "resolve_release": _("Dispute resolved: released to seller"),
    "resolve_split": _("Dispute resolved: split between buyer and seller"),
    "refund": _("Refunded to buyer"),
    "release_refused_refund": _("Returned goods rejected: the refund was released to the seller"),
    "confirm_reminder": _("Reminder sent to confirm receipt"),
    "received": _("Buyer marked the goods received: inspection period started"),
    "delivered_scan": _("Courier scanned the delivery: inspection period started"),
    "delivery_estimate": _("Courier's delivery estimate reached: inspection period started"),
    "inspection_extended": _("Buyer extended the inspection period"),
    "courier_picked_up": _("Courier: picked up"),
    "courier_in_transit": _("Courier: in transit"),
    "courier_delivered": _("Courier: delivered"),
    "shipping_reminder": _("Reminder sent to ship"),
    "payment_link": _("Started by the buyer from the seller's payment link"),
    "milestone_plan": _("Milestone of a plan the buyer accepted"),
    # Returns and booked charges (refunds.services).
    "return_authorised": _("Return authorised: RMA number issued"),
    "return_address": _("Return address given"),
    "return_shipped": _("Buyer shipped the goods back"),
    "return_arrived": _("Returned goods back at the seller: inspection period started"),
    "return_inspected": _("Seller recorded the inspection of the returned goods"),
    "return_decided": _("INTRASA decided the rejected inspection"),
    "return_resend_ordered": _("Rejection upheld: the goods go back to the buyer"),
    "return_resend_address": _("Buyer gave the address for the goods' way back"),
    "return_resent": _("Seller sent the goods back to the buyer"),
    "return_back_with_buyer": _("Goods back with the buyer"),
    "refund_charge_booked": _("INTRASA booked the charge the buyer reported"),
}


class TransactionEvent(models.Model):
    """The transaction's timeline: every state change and every notable action, with who, when
    and why. Append-only."""

    class Role(models.TextChoices):
        SELLER = "seller", _("Seller")
        BUYER = "buyer", _("Buyer")
        STAFF = "staff", _("INTRASA staff")
        SYSTEM = "system", _("System")

    escrow_transaction = models.ForeignKey(
        EscrowTransaction, on_delete=models.PROTECT, related_name="events", verbose_name=_("transaction")
    )
    action = models.CharField(_("action"), max_length=50)
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("by"))
    actor_role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        # Shown to staff (admin inlines): the translated name, not the raw key.
        moved = f" ({self.from_status}→{self.to_status})" if self.to_status else ""
        return f"{self.label}{moved}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def shown_reason(self) -> str:
        """The reason as the parties read it. A system event that recorded its figures is written from
        them in the reader's language (``SYSTEM_REASONS``); the stored ``reason`` stays the plain
        record staff and the audit read, and is shown as it is for every other event."""
        write = SYSTEM_REASONS.get(self.action)
        if write is not None and self.actor_role == self.Role.SYSTEM:
            try:
                return write(self.data)
            except (KeyError, TypeError):  # an event recorded before its figures were
                pass
        return self.reason


def _short_payment_reason(data: dict) -> str:
    from intrasa.money import rupiah_on_one_line

    return _("%(paid)s arrived for a bill of %(billed)s: too little to fund the transaction, so it is returned to "
             "the buyer, who can pay the full amount again.") % {
        "paid": rupiah_on_one_line(data["paid"]), "billed": rupiah_on_one_line(data["billed"])}


SYSTEM_REASONS = {
    "reopen_for_payment": _short_payment_reason,
    "reopen_after_reversal": lambda data: str(_("The payment provider took the payment back before INTRASA verified "
                                                "it, so nothing is held: the buyer can pay again.")),
    "confirm": lambda data: str(_("The inspection period ended without a word from the buyer: receipt is confirmed "
                                  "automatically.")),
}


class FeeTier(models.Model):
    """One band of the fee schedule; see ``transactions.fees`` for the defaults and the rules."""

    min_amount = models.BigIntegerField(_("from (Rp)"))
    max_amount = models.BigIntegerField(_("up to (Rp)"), null=True, blank=True,
                                        help_text=_("Empty means no upper limit."))
    flat_fee = models.BigIntegerField(_("flat fee (Rp)"), default=0)
    percent_basis_points = models.PositiveIntegerField(
        _("percentage (basis points)"), default=0, help_text=_("100 basis points = 1%.")
    )
    minimum_fee = models.BigIntegerField(_("minimum fee (Rp)"), default=0)
    maximum_fee = models.BigIntegerField(_("maximum fee (Rp)"), null=True, blank=True)

    class Meta:
        ordering = ["min_amount"]
        verbose_name = _("fee tier")
        verbose_name_plural = _("fee schedule")
        constraints = [
            models.CheckConstraint(condition=models.Q(min_amount__gte=0), name="fee_tier_min_not_negative"),
            models.CheckConstraint(
                condition=models.Q(max_amount__isnull=True) | models.Q(max_amount__gte=models.F("min_amount")),
                name="fee_tier_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        upper = f"{self.max_amount:,}" if self.max_amount is not None else "∞"
        return f"{self.min_amount:,} – {upper}"


class PageChange(models.Model):
    """One committed change to something the transaction page shows: written by PostgreSQL triggers
    (``transactions.page_cache``), never by Python. The page keeps its rendered body under the
    number of these rows for the transaction and for its two parties (its *version*): rows are only
    ever added, so any commit that changes what the page shows raises the number, whatever wrote it
    (a service, a ``QuerySet.update()``, staff in psql), in whatever order concurrent writers commit.
    Inserts take no lock on the transaction row, so the lock order (DESIGN §3) is not touched.

    Exactly one of the two ids is set; neither is a foreign key (an insert here must not take a
    share lock on the transaction or the user)."""

    escrow_transaction_id = models.BigIntegerField(_("transaction"), null=True, blank=True)
    user_id = models.BigIntegerField(_("party"), null=True, blank=True)

    class Meta:
        verbose_name = _("transaction page change")
        verbose_name_plural = _("transaction page changes")
        indexes = [
            models.Index(fields=["escrow_transaction_id"], condition=models.Q(escrow_transaction_id__isnull=False),
                         name="page_change_transaction"),
            models.Index(fields=["user_id"], condition=models.Q(user_id__isnull=False), name="page_change_party"),
        ]
