"""Finance's refund queue: approve (``refunds.approve_refund``), reject with a reason, and record the
documents only INTRASA can give (inspection result, RMA number). Every action calls
``refunds.services``; nothing is edited in place.

"Approve and transfer" sends money, so one click never does it: the action first shows each
request's amount and the account it would be paid to, says which cannot be approved yet, and asks
for a reason; only the confirmed form calls ``refunds.services.refund_approve``."""
from django import forms
from django.contrib import admin
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intrasa.admin import ReadOnlyAdmin, run_for_each
from intrasa.forms import RupiahField, staff_reason_field
from intrasa.money import format_rupiah
from payments.models import BankStatementLine

from . import access, policy, services
from .models import RefundDocument, RefundRequest, ReturnShipment
from .policy import Document
from .selectors import refund_transfer_destination


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("approval SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("breached", gettext_lazy("Approval overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "breached":
            return queryset.filter(Q(status=RefundRequest.Status.IN_REVIEW) & Q(approval_due_at__lt=timezone.now()))
        return queryset


class DocumentInline(admin.TabularInline):
    model = RefundDocument
    fields = ("created_at", "kind", "source", "value", "file_link", "sha256", "uploaded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        # Inline instances are made per request: remember who reads, for ``file_link``.
        self.viewer = request.user
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=gettext_lazy("File"))
    def file_link(self, obj):
        if not obj.file:
            return ""
        if not access.may_see_refund_document(getattr(self, "viewer", None), obj):
            return _("(for the buyer and finance only)")
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.get_absolute_url(),
                           obj.original_name)


class ApproveForm(forms.Form):
    reason = staff_reason_field(label=gettext_lazy("Reason for approving (kept in the audit log)"))


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason (sent to the buyer)"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class WaiveForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Document not needed"), choices=Document.choices)
    reason = forms.CharField(label=gettext_lazy("Why (shown to the buyer)"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class EWalletReviewForm(forms.Form):
    confirmed = forms.TypedChoiceField(label=gettext_lazy("The e-wallet is registered to"), coerce=lambda v: v == "yes",
                                       choices=[("yes", gettext_lazy("the buyer")),
                                                ("no", gettext_lazy("someone else"))])
    seen_name = forms.CharField(label=gettext_lazy("Name the e-wallet shows"), required=False, max_length=100)
    reason = forms.CharField(label=gettext_lazy("How it was checked"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class StaffDocumentForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Document"), choices=Document.choices)
    value = forms.CharField(label=gettext_lazy("Number or finding"), required=False, max_length=255)
    file = forms.FileField(label=gettext_lazy("File (optional)"), required=False)


class ChargeBookForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("The charge shows in"),
                               choices=[("statement", gettext_lazy("INTRASA's bank statement (a line in suspense)")),
                                        ("provider", gettext_lazy("Faspay's transaction report (one of the bills)"))])
    statement_line = forms.ModelChoiceField(
        label=gettext_lazy("Bank statement line"), required=False,
        queryset=BankStatementLine.objects.filter(matched_bill__isnull=True, assigned_transaction__isnull=True))
    bill_no = forms.CharField(label=gettext_lazy("Bill number (from Faspay's report)"), required=False, max_length=40)
    amount = RupiahField(label=gettext_lazy("Amount Faspay's report shows"), required=False)
    trx_id = forms.CharField(label=gettext_lazy("Faspay trx_id"), required=False, max_length=40)
    report = forms.FileField(label=gettext_lazy("Faspay's report (optional file)"), required=False)
    reason = staff_reason_field(label=gettext_lazy("How you know this charge is the buyer's (kept in the audit log)"))


class ReturnAddressForm(forms.Form):
    address = forms.CharField(label=gettext_lazy("Return address the seller gave (street, city, postal code, phone)"),
                              widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class InspectionDecisionForm(forms.Form):
    accept = forms.TypedChoiceField(label=gettext_lazy("Decision"), coerce=lambda v: v == "accept",
                                    choices=[("accept", gettext_lazy("Overrule the seller: the goods are accepted")),
                                             ("reject", gettext_lazy("Uphold the rejection: reject the refund"))])
    reason = forms.CharField(label=gettext_lazy("Reason (shown to both parties)"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    # Upholding sends the goods back to the buyer (``policy``: RESEND_*): who pays that shipping.
    resend_paid_by = forms.ChoiceField(label=gettext_lazy("If upheld, the shipping of the goods back to the buyer is "
                                                          "paid by"),
                                       choices=ReturnShipment.ShippingPayer.choices, required=False,
                                       initial=policy.RESEND_SHIPPING_PAYER_DEFAULT)

    def clean_resend_paid_by(self) -> str:
        # Not chosen (an overrule needs none): the policy's default payer.
        return self.cleaned_data.get("resend_paid_by") or policy.RESEND_SHIPPING_PAYER_DEFAULT


def _book_charge(request, data):
    def call(req):
        bill = req.escrow_transaction.bills.filter(bill_no=(data["bill_no"] or "").strip()).first()
        line = data["statement_line"]
        return services.refund_charge_book(
            refund_request=req, actor=request.user, source=data["source"], reason=data["reason"],
            reference=data["trx_id"] or "", statement_line_id=line.pk if line else None,
            bill_id=bill.pk if bill else None, amount=data["amount"], report=data["report"])
    return call


@admin.register(ReturnShipment)
class ReturnShipmentAdmin(ReadOnlyAdmin):
    list_display = ("rma_number", "status", "address_due_at", "ship_by", "arrival_expected_by", "inspect_by",
                    "courier", "receipt_number", "resend_by", "resend_receipt_number")
    list_filter = ("status",)
    search_fields = ("rma_number", "refund_request__escrow_transaction__reference", "receipt_number",
                     "resend_receipt_number")
    list_select_related = ("refund_request__escrow_transaction",)
    readonly_fields = [f.name for f in ReturnShipment._meta.fields]


@admin.register(RefundRequest)
class RefundRequestAdmin(ReadOnlyAdmin):
    list_display = ("reference", "case", "amount_display", "status", "missing_display", "approval_due_at",
                    "handler", "handler_task", "handler_due_at", "created_at")
    list_filter = ("status", "case", OverdueFilter, "payment_family")
    search_fields = ("escrow_transaction__reference", "buyer__email")
    list_select_related = ("escrow_transaction", "buyer")
    inlines = [DocumentInline]
    readonly_fields = [f.name for f in RefundRequest._meta.fields if f.editable] + ["missing_display"]
    actions = ["approve", "reject", "record_document", "waive_document", "review_ewallet", "book_charge",
               "give_return_address", "confirm_goods_back", "decide_inspection"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("documents")

    def _hides_destination(self, request, obj) -> bool:
        return obj is not None and not access.may_see_refund_account(request.user, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [f for f in fields if f != "destination"] if self._hides_destination(request, obj) else fields

    def get_exclude(self, request, obj=None):
        # The buyer's refund account is for finance (refunds.access), not for every reader.
        return ["destination"] if self._hides_destination(request, obj) else super().get_exclude(request, obj)

    def has_approve_permission(self, request):
        return request.user.is_staff and request.user.has_perm("refunds.approve_refund")

    def has_document_permission(self, request):
        return request.user.is_staff and request.user.has_perm("refunds.add_refunddocument")

    @admin.display(description=gettext_lazy("Reference"), ordering="escrow_transaction__reference")
    def reference(self, obj):
        return obj.escrow_transaction.reference

    @admin.display(description=gettext_lazy("Amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)

    @admin.display(description=gettext_lazy("Missing documents"))
    def missing_display(self, obj):
        return ", ".join(str(Document(kind).label) for kind in services.missing_documents(obj)) or "—"

    def _page(self, request, queryset, *, action, title, form, **extra):
        return TemplateResponse(request, "admin/refunds/action.html", {
            **self.admin_site.each_context(request), "title": title, "form": form, "action": action,
            "disputes": queryset, "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, **extra,
        })

    def _transfers(self, request, queryset) -> list[dict]:
        """What approving each selected request would send, and to where (as the service would now)."""
        rows = []
        for req in queryset.select_related("escrow_transaction", "buyer", "destination"):
            missing = services.missing_documents(req)
            if missing:
                blocked = _("Missing: %(documents)s") % {
                    "documents": ", ".join(str(Document(kind).label) for kind in missing)}
            elif req.status != RefundRequest.Status.IN_REVIEW:
                blocked = _("Not under review (%(status)s)") % {"status": req.get_status_display()}
            else:
                blocked = ""
            destination = refund_transfer_destination(req)
            if not access.may_see_refund_account(request.user, req):
                shown = _("(for the buyer and finance only)")
            elif destination is None:
                shown = _("No account yet: the buyer is asked for one, and nothing is sent before.")
            elif not destination.can_receive_payouts:
                shown = _("%(account)s — not verified yet: sent only once the bank confirms the name.") % {
                    "account": destination.label}
            else:
                shown = destination.label
            rows.append({"request": req, "destination": shown, "blocked": blocked})
        return rows

    def _run(self, request, queryset, call) -> None:
        run_for_each(self, request, queryset, call, errors=(services.RefundError,),
                     done_message=_("%(count)d refund request(s) updated."))

    @admin.action(description=gettext_lazy("Approve and transfer"), permissions=["approve"])
    def approve(self, request, queryset):
        form = ApproveForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return self._run(request, queryset, lambda r: services.refund_approve(
                refund_request=r, actor=request.user, reason=form.cleaned_data["reason"]))
        transfers = self._transfers(request, queryset)
        return self._page(request, queryset, action="approve", form=form, title=_("Approve and transfer refunds"),
                          transfers=transfers,
                          transfer_total=sum(row["request"].amount for row in transfers if not row["blocked"]))

    @admin.action(description=gettext_lazy("Reject"), permissions=["approve"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return self._run(request, queryset, lambda r: services.refund_reject(
                refund_request=r, actor=request.user, reason=form.cleaned_data["reason"]))
        return self._page(request, queryset, action="reject", form=form, title=_("Reject refund requests"))

    @admin.action(description=gettext_lazy("Record a document (inspection result, RMA…)"),
                  permissions=["document"])
    def record_document(self, request, queryset):
        form = StaffDocumentForm(request.POST if "apply" in request.POST else None,
                                 request.FILES if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            return self._run(request, queryset, lambda r: services.refund_document_add(
                refund_request=r, kind=data["kind"], actor=request.user, upload=data["file"], value=data["value"]))
        return self._page(request, queryset, action="record_document", form=form, title=_("Record a document"))

    @admin.action(description=gettext_lazy("Waive a document (with a reason)"), permissions=["document"])
    def waive_document(self, request, queryset):
        form = WaiveForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            return self._run(request, queryset, lambda r: services.refund_document_waive(
                refund_request=r, kind=data["kind"], actor=request.user, reason=data["reason"]))
        return self._page(request, queryset, action="waive_document", form=form, title=_("Waive a document"))

    @admin.action(description=gettext_lazy("Check the e-wallet's registered name"), permissions=["approve"])
    def review_ewallet(self, request, queryset):
        form = EWalletReviewForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            return self._run(request, queryset, lambda r: services.refund_ewallet_review(
                refund_request=r, actor=request.user, confirmed=data["confirmed"], reason=data["reason"],
                seen_name=data["seen_name"]))
        return self._page(request, queryset, action="review_ewallet", form=form,
                          title=_("Check the e-wallet's registered name"))

    @admin.action(description=gettext_lazy("Book the charge the buyer proved (failed but charged)"),
                  permissions=["approve"])
    def book_charge(self, request, queryset):
        form = ChargeBookForm(request.POST if "apply" in request.POST else None,
                              request.FILES if "apply" in request.POST else None)
        if form.is_valid():
            return self._run(request, queryset, _book_charge(request, form.cleaned_data))
        return self._page(request, queryset, action="book_charge", form=form,
                          title=_("Book the charge the buyer proved"))

    @admin.action(description=gettext_lazy("Decide a return the seller rejected at inspection"), permissions=["approve"])
    def decide_inspection(self, request, queryset):
        form = InspectionDecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            return self._run(request, queryset.select_related("return_shipment"),
                             lambda r: services.return_inspection_decide(
                                 return_shipment=r.return_shipment, actor=request.user, accept=data["accept"],
                                 reason=data["reason"]))
        return self._page(request, queryset, action="decide_inspection", form=form,
                          title=_("Decide a return the seller rejected at inspection"))

    @admin.action(description=gettext_lazy("Enter the seller's return address (overdue)"), permissions=["approve"])
    def give_return_address(self, request, queryset):
        form = ReturnAddressForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return self._run(request, queryset.select_related("return_shipment"),
                             lambda r: services.return_address_give(return_shipment=r.return_shipment,
                                                                    seller=request.user,
                                                                    address=form.cleaned_data["address"]))
        return self._page(request, queryset, action="give_return_address", form=form,
                          title=_("Enter the seller's return address (overdue)"))

    @admin.action(description=gettext_lazy("Confirm the returned goods are back (checked with the courier)"),
                  permissions=["approve"])
    def confirm_goods_back(self, request, queryset):
        return self._run(request, queryset.select_related("return_shipment"),
                         lambda r: services.return_mark_arrived(return_shipment=r.return_shipment, seller=request.user))
