"""Refund requests and the documents that support them (rules: ``refunds.policy``)."""
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from intrasa.uploads import private_storage
from transactions.models import Courier

from .policy import Document, PaymentFamily, RefundCase, StaffTask


class RefundRequest(ConcurrentTransitionMixin, models.Model):
    """Money owed back to a buyer for one reason, from request to money received.

    ``source_key`` makes every automatic start idempotent: one request per escrow refund, per
    dispute split, per double payment of a bill.
    """

    class Status(models.TextChoices):
        AWAITING_DOCUMENTS = "awaiting_documents", _("Waiting for documents")
        IN_REVIEW = "in_review", _("Documents complete: being verified")
        PAYING = "paying", _("Approved: being transferred")
        COMPLETED = "completed", _("Refunded")
        REJECTED = "rejected", _("Rejected")
        # Faspay took the buyer's payment back (a reversal staff booked): the buyer has this money already.
        RETURNED_BY_PROVIDER = "returned_by_provider", _("Returned by the payment provider")

    OPEN_STATUSES = (Status.AWAITING_DOCUMENTS, Status.IN_REVIEW, Status.PAYING)

    escrow_transaction = models.ForeignKey("transactions.EscrowTransaction", on_delete=models.PROTECT,
                                           related_name="refund_requests", verbose_name=_("transaction"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="refund_requests",
                              verbose_name=_("buyer"))
    case = models.CharField(_("case"), max_length=24, choices=RefundCase.choices, db_index=True)
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_DOCUMENTS,
                      protected=True, db_index=True)
    source_key = models.CharField(max_length=100, unique=True, editable=False)
    amount = models.BigIntegerField(_("refund amount"))
    # What the policy grants beyond what INTRASA holds (return shipping both ways after the seller's
    # mistake): INTRASA pays it as part of ``amount`` and recovers it from the seller.
    uncovered_amount = models.BigIntegerField(_("return shipping paid by INTRASA"), default=0)
    restocking_fee = models.BigIntegerField(_("restocking fee"), default=0)
    payment_family = models.CharField(_("original payment method"), max_length=20,
                                      choices=PaymentFamily.choices)
    description = models.TextField(_("chronology"), blank=True)
    # Whether the goods come back to the seller first (``policy.goods_come_back``): only then are the
    # return documents (RMA, return receipt, inspection result) asked.
    goods_return = models.BooleanField(_("goods are returned"), default=False)
    dispute = models.ForeignKey("disputes.Dispute", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="refund_requests", verbose_name=_("dispute"))
    bill = models.ForeignKey("payments.Bill", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="refund_requests", verbose_name=_("bill"))
    statement_line = models.OneToOneField("payments.BankStatementLine", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="refund_request",
                                          verbose_name=_("bank statement line"))
    destination = models.ForeignKey("accounts.PayoutDestination", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("refund to"))
    payout = models.OneToOneField("disbursements.Payout", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="refund_request", verbose_name=_("payout"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    documents_complete_at = models.DateTimeField(_("documents complete at"), null=True, blank=True)
    approval_due_at = models.DateTimeField(_("verified and approved by"), null=True, blank=True, db_index=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # When the buyer last named (or corrected) the account this refund goes to: the transfer window cannot
    # start before it (``policy.transfer_starts_at``; the dates themselves are computed, never stored).
    account_named_at = models.DateTimeField(_("refund account named at"), null=True, blank=True)
    rejected_reason = models.TextField(_("rejection reason"), blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("closed by"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # No dead ends (``policy.StaffTask``): when the next step is INTRASA's, a named staff member holds
    # it with a due date, shown to the buyer. ``handler`` stays when the task ends (who last held it).
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="refund_tasks", verbose_name=_("handled by"))
    handler_task = models.CharField(_("staff task"), max_length=12, choices=StaffTask.choices, blank=True,
                                    db_index=True)
    handler_due_at = models.DateTimeField(_("task due"), null=True, blank=True, db_index=True)
    handler_assigned_at = models.DateTimeField(_("task given at"), null=True, blank=True)
    # Failed but charged (``policy``): where Finance found the charge the buyer proved, and when.
    charge_source = models.CharField(_("charge booked from"), max_length=10, blank=True,
                                     choices=[("statement", _("INTRASA's bank statement")),
                                              ("provider", _("Faspay's transaction report"))])
    charge_reference = models.CharField(_("statement or report reference"), max_length=100, blank=True)
    charge_booked_at = models.DateTimeField(_("charge booked at"), null=True, blank=True)
    charge_booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+", verbose_name=_("charge booked by"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("refund request")
        verbose_name_plural = _("refund requests")
        permissions = [("approve_refund", _("Can approve refunds"))]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"{self.escrow_transaction.reference} · {self.get_case_display()}"

    def get_absolute_url(self) -> str:
        return reverse("refunds:detail", kwargs={"reference": self.escrow_transaction.reference})

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def needs_charge_booked(self) -> bool:
        """A payment problem the buyer reported that INTRASA's books do not hold yet (policy: failed
        but charged): no bill or statement line carries it and Finance have not booked it."""
        from .policy import PAYMENT_CASES

        return (self.case in PAYMENT_CASES and self.bill_id is None and self.statement_line_id is None
                and self.charge_booked_at is None)

    @property
    def owed_back_why(self) -> str:
        """Why INTRASA itself found this payment owed back — ``"double"``, ``"excess"``, ``"short"`` or
        ``"late"`` (``payments.services._owe_back``), as recorded in the key
        ``refunds.services.refund_request_for_owed_payment`` opened the request with — or ``""`` for
        any other request. A short and a late payment share the seed's category "transaksi gagal namun
        terpotong" (``policy.OWED_BACK_CASES``); the refund page tells the buyer which one it was."""
        from .policy import OWED_BACK_CASES

        if self.bill_id is None or not self.source_key.startswith("bill:"):
            return ""
        why = self.source_key.rsplit(":", 1)[-1]
        return why if why in OWED_BACK_CASES else ""

    # --- transitions (bodies empty: refunds.services sets the fields) ----------------------------

    @transition(field=status, source=Status.AWAITING_DOCUMENTS, target=Status.IN_REVIEW)
    def start_review(self):
        """Every document the case needs is there: the 2×24 working-hour approval clock starts."""

    @transition(field=status, source=Status.IN_REVIEW, target=Status.PAYING)
    def approve(self):
        """Finance approved: the transfer to the buyer is planned."""

    @transition(field=status, source=[Status.AWAITING_DOCUMENTS, Status.IN_REVIEW], target=Status.REJECTED)
    def reject(self):
        """Finance refused, with a reason the buyer is told."""

    @transition(field=status, source=[Status.AWAITING_DOCUMENTS, Status.IN_REVIEW], target=Status.RETURNED_BY_PROVIDER)
    def close_returned_by_provider(self):
        """Faspay took back the payment this refund would return, and staff booked the reversal: the money
        reached the buyer through the provider, so nothing is sent (never once a transfer is planned)."""

    @transition(field=status, source=Status.PAYING, target=Status.COMPLETED)
    def complete(self):
        """The transfer succeeded: the money is at the buyer."""

    @transition(field=status, source=Status.COMPLETED, target=Status.PAYING)
    def reopen(self):
        """The bank gave the transfer back after it was reported paid (SendMe 04): the money is owed to the
        buyer again and is paid again from here."""


class RefundDocument(models.Model):
    """One document of a request: a typed value (order or RMA number), an uploaded file, or a
    record INTRASA already holds (``source`` = system, e.g. the verified payment)."""

    class Source(models.TextChoices):
        BUYER = "buyer", _("Buyer")
        SELLER = "seller", _("Seller")
        STAFF = "staff", _("INTRASA staff")
        SYSTEM = "system", _("INTRASA records")

    request = models.ForeignKey(RefundRequest, on_delete=models.PROTECT, related_name="documents",
                                verbose_name=_("refund request"))
    kind = models.CharField(_("document"), max_length=24, choices=Document.choices)
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    value = models.CharField(_("number or note"), max_length=255, blank=True)
    file = models.FileField(_("file"), storage=private_storage, upload_to="refunds", max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=50, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)  # of the stored file
    original_sha256 = models.CharField(_("SHA-256 of the file as uploaded"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("added by"))
    # Staff waived this document for this request (why it is not needed): it counts as present.
    waived_reason = models.TextField(_("waived because"), blank=True)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("refund document")
        verbose_name_plural = _("refund documents")

    def __str__(self) -> str:
        if self.waived_reason:
            return f"{self.get_kind_display()}: waived ({self.waived_reason})"
        return f"{self.get_kind_display()}: {self.value or self.original_name}"

    def get_absolute_url(self) -> str:
        return reverse("refunds:document", kwargs={"pk": self.pk})


class ReturnShipment(ConcurrentTransitionMixin, models.Model):
    """The goods of an authorised return on their way back to the seller (``policy``: returns): the
    RMA number, the seller's return address, the buyer's courier receipt, the arrival and the
    seller's inspection, each step with its deadline."""

    class Status(models.TextChoices):
        AWAITING_ADDRESS = "awaiting_address", _("Waiting for the seller's return address")
        AWAITING_SHIPMENT = "awaiting_shipment", _("Waiting for the buyer to ship the goods back")
        SHIPPED_BACK = "shipped_back", _("Goods on their way back to the seller")
        ARRIVED = "arrived", _("Goods back at the seller: being inspected")
        ACCEPTED = "accepted", _("Inspection: accepted")
        REJECTED = "rejected", _("Inspection: rejected (INTRASA decides)")
        # INTRASA upheld the rejection (``policy``: returned goods after an upheld rejection): the
        # money went to the seller, the goods still belong to the buyer and travel back to them.
        RESEND_ADDRESS = "resend_address", _("Rejection upheld: waiting for the buyer's address for the goods")
        RESEND_PENDING = "resend_pending", _("Rejection upheld: waiting for the seller to send the goods back to "
                                             "the buyer")
        RESENT = "resent", _("Rejection upheld: goods on their way back to the buyer")
        BACK_WITH_BUYER = "back_with_buyer", _("Rejection upheld: goods back with the buyer")

    # The leg back to the buyer that still needs someone to act (``refunds.services``: next step).
    RESEND_OPEN_STATUSES = (Status.RESEND_ADDRESS, Status.RESEND_PENDING, Status.RESENT)

    class ShippingPayer(models.TextChoices):
        BUYER = "buyer", _("The buyer (paid to the courier on delivery)")
        SELLER = "seller", _("The seller (INTRASA staff decided)")

    refund_request = models.OneToOneField(RefundRequest, on_delete=models.PROTECT, related_name="return_shipment",
                                          verbose_name=_("refund request"))
    rma_number = models.CharField(_("RMA number"), max_length=60, unique=True)
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_ADDRESS,
                      protected=True, db_index=True)
    created_at = models.DateTimeField(_("authorised at"), auto_now_add=True)
    address_due_at = models.DateTimeField(_("address due"), db_index=True)
    address = models.TextField(_("return address"), blank=True)
    address_given_at = models.DateTimeField(_("address given at"), null=True, blank=True)
    ship_by = models.DateTimeField(_("ship back by"), null=True, blank=True, db_index=True)
    courier = models.CharField(_("courier"), max_length=20, blank=True, choices=Courier.choices)
    receipt_number = models.CharField(_("return receipt number"), max_length=60, blank=True)
    shipped_back_at = models.DateTimeField(_("shipped back at"), null=True, blank=True)
    arrival_expected_by = models.DateTimeField(_("expected back by"), null=True, blank=True, db_index=True)
    # The courier's delivery scan marks the arrival when the seller does not (``refunds.tasks``).
    tracking_checked_at = models.DateTimeField(_("tracking checked at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived back at"), null=True, blank=True)
    inspect_by = models.DateTimeField(_("inspected by"), null=True, blank=True, db_index=True)
    inspected_at = models.DateTimeField(_("inspection recorded at"), null=True, blank=True)
    inspection_note = models.TextField(_("inspection result"), blank=True)
    decided_at = models.DateTimeField(_("decided by INTRASA at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decision_reason = models.TextField(_("INTRASA's decision"), blank=True)
    # The way back to the buyer after an upheld rejection (``policy``: RESEND_*).
    resend_shipping_payer = models.CharField(_("shipping back to the buyer paid by"), max_length=10, blank=True,
                                             choices=ShippingPayer.choices)
    buyer_address_due_at = models.DateTimeField(_("buyer's address due"), null=True, blank=True, db_index=True)
    buyer_address = models.TextField(_("buyer's address for the goods"), blank=True)
    buyer_address_given_at = models.DateTimeField(_("buyer's address given at"), null=True, blank=True)
    resend_by = models.DateTimeField(_("seller sends back by"), null=True, blank=True, db_index=True)
    resend_courier = models.CharField(_("courier to the buyer"), max_length=20, blank=True, choices=Courier.choices)
    resend_receipt_number = models.CharField(_("receipt number to the buyer"), max_length=60, blank=True)
    resent_at = models.DateTimeField(_("sent back to the buyer at"), null=True, blank=True)
    resend_expected_by = models.DateTimeField(_("expected at the buyer by"), null=True, blank=True, db_index=True)
    back_with_buyer_at = models.DateTimeField(_("back with the buyer at"), null=True, blank=True)
    back_with_buyer_source = models.CharField(_("reported back by"), max_length=12, blank=True,
                                              choices=[("buyer", _("The buyer")), ("courier_scan", _("Courier scan"))])

    class Meta:
        verbose_name = _("return shipment")
        verbose_name_plural = _("return shipments")

    def __str__(self) -> str:
        return f"{self.rma_number} · {self.get_status_display()}"

    # --- transitions (bodies empty: refunds.services sets the fields) ----------------------------

    @transition(field=status, source=Status.AWAITING_ADDRESS, target=Status.AWAITING_SHIPMENT)
    def give_address(self):
        """The seller said where the goods go back: the buyer's shipping clock starts."""

    @transition(field=status, source=[Status.AWAITING_ADDRESS, Status.AWAITING_SHIPMENT], target=Status.SHIPPED_BACK)
    def ship_back(self):
        """The buyer handed the goods to a courier and entered the receipt number."""

    @transition(field=status, source=Status.SHIPPED_BACK, target=Status.ARRIVED)
    def arrive(self):
        """The goods are back at the seller: the 2×24 working-hour inspection clock starts."""

    @transition(field=status, source=[Status.SHIPPED_BACK, Status.ARRIVED], target=Status.ACCEPTED)
    def accept(self):
        """The seller found the goods as expected: the refund goes to INTRASA's approval."""

    @transition(field=status, source=[Status.SHIPPED_BACK, Status.ARRIVED], target=Status.REJECTED)
    def reject(self):
        """The seller refused the returned goods, with a reason: INTRASA staff decide."""

    @transition(field=status, source=Status.REJECTED, target=Status.ACCEPTED)
    def overrule(self):
        """INTRASA staff found the rejection unfounded: the goods count as accepted."""

    @transition(field=status, source=Status.REJECTED, target=Status.RESEND_ADDRESS)
    def uphold(self):
        """INTRASA staff upheld the rejection: the money went to the seller, the goods go back to the
        buyer, who first says where."""

    @transition(field=status, source=Status.RESEND_ADDRESS, target=Status.RESEND_PENDING)
    def give_buyer_address(self):
        """The buyer said where the goods go: the seller's clock to send them starts."""

    @transition(field=status, source=Status.RESEND_PENDING, target=Status.RESENT)
    def resend(self):
        """The seller handed the goods to a courier for the buyer and entered the receipt number."""

    @transition(field=status, source=[Status.RESEND_PENDING, Status.RESENT], target=Status.BACK_WITH_BUYER)
    def back_with_buyer(self):
        """The goods are back with the buyer: the courier's delivery scan, or the buyer's word (a buyer
        who collected them in person needs no courier)."""


class ShortShipmentClaim(models.Model):
    """What the buyer says was missing from a delivery, and its value (``policy``: short shipment):
    the refund is that value, once the seller agrees or INTRASA staff decide."""

    dispute = models.OneToOneField("disputes.Dispute", on_delete=models.PROTECT, related_name="short_shipment",
                                   verbose_name=_("dispute"))
    missing_items = models.TextField(_("what was missing"))
    missing_value = models.BigIntegerField(_("value of the missing part"))
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    agreed_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    agreed_amount = models.BigIntegerField(_("amount refunded"), null=True, blank=True)

    class Meta:
        verbose_name = _("short shipment claim")
        verbose_name_plural = _("short shipment claims")
        constraints = [models.CheckConstraint(condition=models.Q(missing_value__gt=0), name="missing_value_positive")]

    def __str__(self) -> str:
        return f"{self.missing_items[:40]} · {self.missing_value}"

    @property
    def audit_label(self) -> str:
        """The claim in the audit trail, without the buyer's words (``audit.services.audit_record``)."""
        return f"{self._meta.verbose_name} #{self.pk} · {self.missing_value}"
