"""Staff views of transactions. Nothing that holds money or state is editable here.

State changes are django-fsm-2 admin buttons (``FSMAdminMixin``) restricted to the transitions
that make sense for staff — cancel, refund, resolve (release) — each asking for a reason. The
mixin's transition execution is replaced: the button calls ``transactions.services``, which
locks the row, checks the transition's permission, posts the ledger entry and writes the timeline
and the staff action's audit row in one database transaction; the model's transition method is
never called from here, and nothing is recorded here.
"""
import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max, OuterRef, Q, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm.admin import FSMAdminMixin

from disbursements.models import Disbursement, Payout
from documents.selectors import KINDS, document_available, document_url
from intrasa.admin import ReadOnlyInline
from intrasa.money import format_rupiah
from intrasa.wib import format_wib
from ledger.selectors import transaction_postings
from payments.channels import METHOD_LABELS
from payments.models import Bill, BillShare
from transactions import services
from transactions.models import EscrowTransaction, Status, TransactionEvent

# name → (service call, button label, help text). Only transitions that move no money: refunding
# the buyer or releasing to the seller is a dispute's decision, taken on the dispute's page
# (disputes.services), which also opens the refund request and plans the payout.
STAFF_TRANSITIONS = {
    "cancel": (
        lambda txn, user, reason: services.transaction_cancel(escrow_transaction=txn, actor=user, reason=reason),
        gettext_lazy("Cancel (before payment)"),
        gettext_lazy("Close an unpaid transaction. No money has moved."),
    ),
}

OPEN_PAYOUT = [Payout.Status.AWAITING_DESTINATION, Payout.Status.IN_PROGRESS, Payout.Status.NEEDS_ACTION]


def admin_link(obj, label=None):
    """A link to ``obj``'s admin page (plain text when it has none)."""
    if obj is None:
        return "-"
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(label or obj)
    return format_html('<a href="{}">{}</a>', url, label or obj)


def dispute_opened_at():
    """When the transaction's (latest) dispute was opened, from the timeline."""
    return Subquery(TransactionEvent.objects.filter(escrow_transaction=OuterRef("pk"), action="open_dispute")
                    .order_by().values("escrow_transaction").annotate(at=Max("created_at")).values("at"))


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), min_length=5, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Shown on the transaction's timeline and kept in the audit log."))

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()


class PaymentMethodFilter(admin.SimpleListFilter):
    title = gettext_lazy("payment method")
    parameter_name = "method"

    def lookups(self, request, model_admin):
        return list(METHOD_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in METHOD_LABELS:
            return queryset.filter(pk__in=Bill.objects.filter(method=self.value()).values("escrow_transaction"))
        return queryset


class SlaFilter(admin.SimpleListFilter):
    """The queues of the staff dashboard (templates/admin/index.html links here)."""

    title = gettext_lazy("service level")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [
            ("awaiting_verification", _("Payment awaiting verification")),
            ("shipping_overdue", _("Shipment overdue")),
            ("confirmations_due", _("Inspection ends within 24 hours")),
            ("disputed_lt3", _("In dispute, under 3 days")),
            ("disputed_3to7", _("In dispute, 3 to 7 days")),
            ("disputed_gt7", _("In dispute, over 7 days")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == "awaiting_verification":
            return queryset.filter(status=Status.PAID)
        if value == "shipping_overdue":
            return queryset.filter(status=Status.VERIFIED, shipping_deadline__lt=now)
        if value == "confirmations_due":
            return queryset.filter(status=Status.SHIPPED, inspection_ends_at__lte=now + dt.timedelta(hours=24))
        ages = {"disputed_lt3": (0, 3), "disputed_3to7": (3, 7), "disputed_gt7": (7, None)}
        if value in ages:
            low, high = ages[value]
            condition = Q(opened_at__lte=now - dt.timedelta(days=low))
            if high:
                condition &= Q(opened_at__gt=now - dt.timedelta(days=high))
            return queryset.filter(status=Status.DISPUTED).annotate(opened_at=dispute_opened_at()).filter(condition)
        return queryset


class TransactionEventInline(ReadOnlyInline):
    model = TransactionEvent
    fields = ("created_at", "step", "from_status", "to_status", "actor", "actor_role", "reason")
    readonly_fields = fields
    ordering = ("created_at", "id")
    show_change_link = False

    @admin.display(description=gettext_lazy("action"))
    def step(self, event):
        """The event under its translated name, never the raw key (``payment_method_chosen``)."""
        return event.label

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class BillInline(ReadOnlyInline):
    model = Bill
    fields = ("bill_no", "method", "channel_code", "amount", "status", "flag", "paid_amount", "paid_at",
              "verified_at")
    readonly_fields = fields


class BillShareInline(ReadOnlyInline):
    """The shared bills (a milestone plan paid up front) that pay this transaction too: the bill
    belongs to the plan's first milestone, this is this transaction's part of it."""

    model = BillShare
    fields = ("bill", "amount", "collected", "held")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("bill")


class PayoutInline(ReadOnlyInline):
    model = Payout
    fields = ("purpose", "recipient", "amount", "status", "due_at", "completed_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient")


def optional_inlines() -> list:
    """Read-only inlines for the disputes and refunds apps' models, if they exist and point at the
    transaction (those apps are built separately; nothing here depends on their schema)."""
    from django.apps import apps

    inlines = []
    for app_label, names in (("disputes", ("Dispute",)), ("refunds", ("RefundRequest", "Refund"))):
        if not apps.is_installed(app_label):
            continue
        for name in names:
            try:
                model = apps.get_model(app_label, name)
            except LookupError:
                continue
            fk = next((f for f in model._meta.fields
                       if getattr(f.remote_field, "model", None) is EscrowTransaction), None)
            if fk is None:
                continue
            shown = tuple(f.name for f in model._meta.fields
                          if f.name in ("status", "kind", "amount", "reason", "created_at", "decided_at",
                                        "resolved_at", "opened_by", "requested_by", "stage"))[:7] or ("id",)
            inlines.append(type(f"{name}Inline", (ReadOnlyInline,), {
                "model": model, "fk_name": fk.name, "fields": shown, "readonly_fields": shown}))
            break
    return inlines


@admin.register(EscrowTransaction)
class EscrowTransactionAdmin(FSMAdminMixin, admin.ModelAdmin):
    list_display = ("reference", "title", "status", "amount_display", "fee_display", "age", "sla", "seller",
                    "buyer", "created_at")
    list_filter = ("status", SlaFilter, PaymentMethodFilter, "category", "fee_payer", "created_at")
    search_fields = ("reference", "title", "seller__email", "buyer__email", "buyer_email", "buyer_phone",
                     "seller__phone", "buyer__phone")
    list_select_related = ("seller", "buyer")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in EscrowTransaction._meta.fields if f.name != "invitation_token"] + [
        "document_links", "disbursement_table", "ledger_lines"]
    exclude = ("invitation_token",)

    fsm_fields = ["status"]
    fsm_forms = {name: ReasonForm for name in STAFF_TRANSITIONS}
    change_form_template = "admin/transactions/escrowtransaction/change_form.html"
    fsm_transition_form_template = "admin/transactions/escrowtransaction/transition_form.html"
    fsm_transition_success_msg = gettext_lazy("Done: “{transition_name}”.")

    def get_inlines(self, request, obj):
        return [TransactionEventInline, BillInline, BillShareInline, PayoutInline, *optional_inlines()]

    def get_queryset(self, request):
        due = (Payout.objects.filter(escrow_transaction=OuterRef("pk"), status__in=OPEN_PAYOUT)
               .order_by("due_at").values("due_at")[:1])
        return super().get_queryset(request).annotate(payout_due_at=Subquery(due))

    # --- columns --------------------------------------------------------------------------------
    @admin.display(description=gettext_lazy("Amount"), ordering="amount_due")
    def amount_display(self, obj):
        return format_rupiah(obj.amount_due)

    @admin.display(description=gettext_lazy("Fee"), ordering="fee_amount")
    def fee_display(self, obj):
        return format_rupiah(obj.fee_amount)

    @admin.display(description=gettext_lazy("Age"), ordering="created_at")
    def age(self, obj):
        return timesince(obj.created_at)

    @admin.display(description=gettext_lazy("Service level"))
    def sla(self, obj):
        """The next promise this transaction is waiting on, red when it is broken."""
        now = timezone.now()
        due, label = {
            Status.CREATED: (obj.payment_due_at, _("pay by")),
            Status.PAID: (None, _("awaiting verification")),
            Status.VERIFIED: (obj.shipping_deadline, _("ship by")),
            Status.SHIPPED: (obj.inspection_ends_at, _("auto-confirm")),
            Status.CONFIRMED: (getattr(obj, "payout_due_at", None), _("payout by")),
            Status.DISPUTED: (None, _("in dispute")),
        }.get(obj.status, (None, ""))
        if obj.status == Status.PAID and obj.paid_at:
            return format_html("{} ({})", label, timesince(obj.paid_at))
        if due is None:
            return label or "-"
        if due < now:
            return format_html('<strong class="overdue">{} {} — {}</strong>', label, format_wib(due),
                               _("overdue"))
        return f"{label} {format_wib(due)}"

    # --- detail ---------------------------------------------------------------------------------
    @admin.display(description=gettext_lazy("Documents"))
    def document_links(self, obj):
        """The PDFs of this transaction (documents app); staff with view permission may open any."""
        postings = list(transaction_postings(escrow_transaction=obj))
        available = [kind for kind in KINDS.values() if document_available(kind, obj, postings)]
        return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener">{} (PDF)</a>',
                                ((document_url(obj.reference, kind), kind.title) for kind in available))

    @admin.display(description=gettext_lazy("Disbursements (SendMe parts)"))
    def disbursement_table(self, obj):
        parts = Disbursement.objects.filter(payout__escrow_transaction=obj).select_related("payout").order_by(
            "payout_id", "sequence", "pk")
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (admin_link(part, part.partner_reference_no), part.payout.get_purpose_display(), format_rupiah(part.amount),
             part.get_status_display(), part.get_waiting_for_display() if part.waiting_for else "")
            for part in parts))
        if not rows:
            return "-"
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
                           "<tbody>{}</tbody></table>", _("Partner reference"), _("Purpose"), _("Amount"),
                           _("Status"), _("Waiting for"), rows)

    @admin.display(description=gettext_lazy("Ledger lines"))
    def ledger_lines(self, obj):
        postings = transaction_postings(escrow_transaction=obj)
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (format_wib(p.entry.posted_at), admin_link(p.entry, p.entry.get_kind_display()),
             p.account.get_category_display(), p.get_side_display(), format_rupiah(p.amount)) for p in postings))
        if not rows:
            return "-"
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
                           "<tbody>{}</tbody></table>", _("Posted"), _("Entry"), _("Account"), _("Side"),
                           _("Amount"), rows)

    # --- nothing by hand ------------------------------------------------------------------------
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the detail page is read-only; the transition buttons are separate views

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        raise PermissionDenied

    # --- staff transitions ----------------------------------------------------------------------
    def is_fsm_transition_visible(self, transition) -> bool:
        return transition.name in STAFF_TRANSITIONS

    def get_fsm_label(self, transition) -> str:
        return str(STAFF_TRANSITIONS[transition.name][1]) if transition.name in STAFF_TRANSITIONS else transition.name

    def get_help_text(self, transition) -> str | None:
        return str(STAFF_TRANSITIONS[transition.name][2]) if transition.name in STAFF_TRANSITIONS else None

    def get_fsm_transition_form(self, transition):
        # Every staff transition asks for a reason; anything else has no form and is refused.
        return ReasonForm if transition.name in STAFF_TRANSITIONS else None

    @staticmethod
    def get_fsm_block_label(fsm_field_name: str) -> str:
        return _("Staff actions")

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        if transition_name not in STAFF_TRANSITIONS:
            raise PermissionDenied
        if not request.user.has_perm("transactions.view_escrowtransaction"):
            raise PermissionDenied
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def _execute_fsm_transition(self, *, transition_func, request, kwargs=None):
        # Never run the model's transition method from the admin: services do it with the row
        # locked and the ledger posted (see _apply_fsm_transition).
        raise PermissionDenied

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None) -> bool:
        entry = STAFF_TRANSITIONS.get(transition_name)
        if entry is None:
            self.message_user(request, self.fsm_transition_not_allowed_msg.format(transition_name=transition_name),
                              level=messages.ERROR)
            return False
        reason = (kwargs or {}).get("reason", "")
        try:
            entry[0](obj, request.user, reason)
        except services.TransactionActionError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return False
        self.message_user(request, self.fsm_transition_success_msg.format(transition_name=entry[1]),
                          level=messages.SUCCESS)
        return True


