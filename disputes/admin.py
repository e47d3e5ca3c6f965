"""The staff dispute queue. Nothing is edited in place: every action asks for a reason on an
intermediate page and calls ``disputes.services`` — the same code the website uses — which records
the staff member on the timeline and in the audit trail.

Roles (groups from ``accounts/migrations/0003_staff_roles.py``): customer service reads and writes
messages; dispute officers also resolve (``transactions.resolve_dispute``). An action the user has
no permission for is not offered at all.
"""
import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intrasa.admin import ReadOnlyAdmin, run_for_each
from intrasa.forms import RupiahField
from intrasa.money import format_rupiah
from intrasa.uploads import image_thumbnail
from intrasa.wib import format_wib
from refunds import policy
from refunds.policy import RefundCase
from transactions.selectors import refundable_in_full

from . import selectors, services
from .models import Dispute, DisputeMessage, Evidence, SettlementOffer


class AgeFilter(admin.SimpleListFilter):
    title = gettext_lazy("age")
    parameter_name = "age"
    BUCKETS = {"lt3": (0, 3), "3to7": (3, 7), "gt7": (7, None)}

    def lookups(self, request, model_admin):
        return [("lt3", gettext_lazy("Under 3 days")), ("3to7", gettext_lazy("3 to 7 days")),
                ("gt7", gettext_lazy("Over 7 days"))]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        low, high = self.BUCKETS[self.value()]
        now = timezone.now()
        queryset = queryset.filter(created_at__lte=now - dt.timedelta(days=low))
        return queryset.filter(created_at__gt=now - dt.timedelta(days=high)) if high else queryset


class AmountFilter(admin.SimpleListFilter):
    title = gettext_lazy("amount held")
    parameter_name = "amount"
    BANDS = {"lt1m": (0, 1_000_000), "1to10m": (1_000_000, 10_000_000), "gt10m": (10_000_000, None)}

    def lookups(self, request, model_admin):
        return [("lt1m", gettext_lazy("Under Rp 1.000.000")), ("1to10m", gettext_lazy("Rp 1.000.000 – 10.000.000")),
                ("gt10m", gettext_lazy("Over Rp 10.000.000"))]

    def queryset(self, request, queryset):
        if self.value() not in self.BANDS:
            return queryset
        low, high = self.BANDS[self.value()]
        queryset = queryset.filter(escrow_transaction__amount_received__gte=low)
        return queryset.filter(escrow_transaction__amount_received__lt=high) if high else queryset


class SlaFilter(admin.SimpleListFilter):
    title = gettext_lazy("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("breached", gettext_lazy("Breached")), ("ok", gettext_lazy("Within SLA"))]

    def queryset(self, request, queryset):
        breached = Q(staff_due_at__lt=timezone.now()) & ~Q(status=Dispute.Status.RESOLVED)
        if self.value() == "breached":
            return queryset.filter(breached)
        if self.value() == "ok":
            return queryset.exclude(breached)
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyInline):
    model = DisputeMessage
    fields = ("created_at", "role", "author", "body")
    readonly_fields = fields


THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/webp"}


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ("created_at", "role", "uploaded_by", "purpose", "thumbnail", "file_link", "content_type", "size",
              "sha256")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Preview"))
    def thumbnail(self, obj):
        """Photos are read at a glance; the image comes from a staff-only URL that checks who may
        see the evidence and serves a freshly drawn JPEG, never the uploaded bytes."""
        if obj.content_type not in THUMBNAIL_TYPES or not obj.file:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" loading="lazy" '
                           'data-testid="evidence-thumbnail"></a>', obj.get_absolute_url(),
                           reverse("admin:disputes_evidence_thumbnail", args=[obj.pk]), obj.original_name)

    @admin.display(description=gettext_lazy("File"))
    def file_link(self, obj):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.get_absolute_url(),
                           obj.original_name)


class OfferInline(ReadOnlyInline):
    model = SettlementOffer
    fields = ("created_at", "role", "proposed_by", "outcome", "buyer_amount", "return_shipping_payer", "status",
              "respond_by", "responded_by", "note")
    readonly_fields = fields


# --- intermediate forms -----------------------------------------------------------------------

class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason (shown to both parties)"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class RefundForm(ReasonForm):
    return_shipping = RupiahField(label=gettext_lazy("Return shipping the buyer already paid (if any)"),
                                  required=False, min_value=0, max_value=settings.INTRASA_MAX_TRANSACTION_AMOUNT)


class SplitForm(ReasonForm):
    buyer_amount = RupiahField(label=gettext_lazy("Amount to the buyer"))
    refund_case = forms.ChoiceField(
        label=gettext_lazy("Refund case"), initial=RefundCase.SETTLEMENT,
        choices=[(c, RefundCase(c).label) for c in (RefundCase.SETTLEMENT, RefundCase.RETURN_NON_DEFECT,
                                                     RefundCase.RETURN_SELLER_FAULT)])


def require_early_confirmation(form: forms.Form, disputes) -> list[Dispute]:
    """Before the seller's reply deadline a decision would come before the seller was heard: the
    form then needs an explicit confirmation that states the deadline. Returns those disputes."""
    early = [d for d in disputes if d.seller_may_still_reply]
    if early:
        deadlines = ", ".join(f"{d.escrow_transaction.reference}: {format_wib(d.seller_reply_due_at)}" for d in early)
        form.fields["confirm_before_deadline"] = forms.BooleanField(
            label=_("Decide now, before the seller's reply deadline (%(deadlines)s)") % {"deadlines": deadlines},
            error_messages={"required": _("The seller may still reply until %(deadlines)s. Tick the box to decide "
                                          "before then anyway.") % {"deadlines": deadlines}})
    return early


class MessageForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Message to the parties"),
                           widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


def _decide(step: str, dispute: Dispute, data: dict, user) -> None:
    """One staff step on one dispute, through the same services the website uses."""
    if step == "release":
        services.dispute_resolve(dispute=dispute, staff=user, outcome=SettlementOffer.Outcome.RELEASE,
                                 reason=data["reason"])
    elif step == "refund":
        services.dispute_resolve(dispute=dispute, staff=user, outcome=SettlementOffer.Outcome.REFUND,
                                 reason=data["reason"], return_shipping=data["return_shipping"] or 0)
    elif step == "split":
        services.dispute_resolve(dispute=dispute, staff=user, outcome=SettlementOffer.Outcome.SPLIT,
                                 reason=data["reason"], buyer_amount=data["buyer_amount"],
                                 refund_case=data["refund_case"])
    else:
        services.dispute_post_message(dispute=dispute, author=user, body=data["body"])


# step → (form, title, is a decision)
STEPS = {
    "release": (ReasonForm, gettext_lazy("Release to the seller"), True),
    "refund": (RefundForm, gettext_lazy("Refund the buyer in full"), True),
    "split": (SplitForm, gettext_lazy("Split between buyer and seller"), True),
    "message": (MessageForm, gettext_lazy("Write a message to the parties"), False),
}


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("reference", "reason", "status", "amount_display", "age_display", "sla_breached_display",
                    "created_at")
    list_filter = ("reason", "status", AgeFilter, AmountFilter, SlaFilter, "outcome")
    search_fields = ("escrow_transaction__reference",)
    list_select_related = ("escrow_transaction",)
    ordering = ("staff_due_at", "created_at")
    inlines = [MessageInline, EvidenceInline, OfferInline]
    readonly_fields = ("escrow_transaction", "reason", "description", "opened_by", "status", "seller_reply_due_at",
                       "seller_replied_at", "escalated_at", "escalation_reason", "staff_due_at", "outcome",
                       "buyer_amount", "return_shipping_payer", "resolution_reason", "resolved_by", "by_agreement",
                       "resolved_at", "created_at", "policy_figures", "timeline")
    fields = readonly_fields
    actions = ["release_to_seller", "refund_buyer_in_full", "split", "write_message"]
    change_form_template = "admin/disputes/dispute/change_form.html"

    def has_resolve_permission(self, request):
        return request.user.is_staff and request.user.has_perm("transactions.resolve_dispute")

    def has_message_permission(self, request):
        return request.user.is_staff and request.user.has_perm("disputes.add_disputemessage")

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("Reference"), ordering="escrow_transaction__reference")
    def reference(self, obj):
        return obj.escrow_transaction.reference

    @admin.display(description=gettext_lazy("Held"), ordering="escrow_transaction__amount_received")
    def amount_display(self, obj):
        return format_rupiah(obj.escrow_transaction.amount_received or 0)

    @admin.display(description=gettext_lazy("Age (days)"), ordering="created_at")
    def age_display(self, obj):
        return (timezone.now() - obj.created_at).days

    @admin.display(description=gettext_lazy("SLA breached"), boolean=True)
    def sla_breached_display(self, obj):
        return obj.sla_breached

    @admin.display(description=gettext_lazy("Policy figures"))
    def policy_figures(self, obj):
        txn = obj.escrow_transaction
        held = txn.amount_received or 0
        rows = [(_("Held in escrow"), format_rupiah(held)), (_("Service fee"), format_rupiah(txn.fee_amount))]
        case = policy.DISPUTE_REFUND_CASE[obj.reason]
        in_full = refundable_in_full(escrow_transaction=txn)  # what the buyer paid (a unique code stays INTRASA's)
        if case in policy.SELLER_FAULT_CASES:
            figure = policy.refund_amount(case, price=txn.price, shipping_cost=txn.shipping_cost,
                                          buyer_fee=txn.buyer_fee, held=in_full)
            rows.append((_("Seller's fault: full refund"), format_rupiah(figure.amount)))
        figure = policy.refund_amount(policy.RefundCase.RETURN_NON_DEFECT, price=txn.price,
                                      shipping_cost=txn.shipping_cost, buyer_fee=txn.buyer_fee, held=in_full)
        rows.append((_("Non-defect return: item value minus restocking fee"), format_rupiah(figure.amount)))
        return format_html_join("", "<div>{}: <strong>{}</strong></div>", rows)

    @admin.display(description=gettext_lazy("Transaction timeline"))
    def timeline(self, obj):
        events = obj.escrow_transaction.events.select_related("actor").order_by("created_at", "id")
        return format_html("<ol>{}</ol>", format_html_join(
            "", "<li>{} · {} · {} {}<br><small>{}</small></li>",
            ((format_wib(e.created_at), e.label, e.get_actor_role_display(),
              e.actor.full_name if e.actor else "", e.reason) for e in events)))

    # --- the case page: its state, and the steps where staff read it ------------------------

    def get_urls(self):
        return [
            path("<int:pk>/resolve/<str:step>/", self.admin_site.admin_view(self.step_view),
                 name="disputes_dispute_step"),
            path("evidence/<int:pk>/thumbnail/", self.admin_site.admin_view(self.evidence_thumbnail_view),
                 name="disputes_evidence_thumbnail"),
            *super().get_urls(),
        ]

    def _step_allowed(self, request, step: str) -> bool:
        return self.has_resolve_permission(request) if STEPS[step][2] else self.has_message_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        dispute = self.get_object(request, object_id)
        extra = {}
        if dispute is not None:
            steps = [step for step in STEPS if (dispute.is_open or not STEPS[step][2])
                     and self._step_allowed(request, step)]
            extra = {"dispute": dispute, "held": dispute.escrow_transaction.amount_received or 0,
                     "steps": [(step, STEPS[step][1], reverse("admin:disputes_dispute_step", args=[dispute.pk, step]))
                               for step in steps]}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def step_view(self, request, pk, step):
        """A resolve action (or a message) from the case page itself: the same forms, checks and
        services as the list's actions, for this one dispute."""
        if step not in STEPS:
            raise Http404
        if not self._step_allowed(request, step):
            raise PermissionDenied
        dispute = get_object_or_404(Dispute.objects.select_related("escrow_transaction"), pk=pk)
        change_url = reverse("admin:disputes_dispute_change", args=[dispute.pk])
        form_class, title, decision = STEPS[step]
        if decision and not dispute.is_open:
            self.message_user(request, _("This dispute is resolved."), messages.ERROR)
            return redirect(change_url)
        form = form_class(request.POST or None)
        early = require_early_confirmation(form, [dispute]) if decision else []
        if request.method == "POST" and form.is_valid():
            try:
                _decide(step, dispute, form.cleaned_data, request.user)
            except services.DisputeError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("%(count)d dispute(s) updated.") % {"count": 1}, messages.SUCCESS)
                return redirect(change_url)
        return self._intermediate(request, [dispute], action=step, form=form, title=title, single=True,
                                  early=early, back_url=change_url)

    def evidence_thumbnail_view(self, request, pk):
        """A staff-only thumbnail of an image (``refunds.access`` decides who may see evidence)."""
        evidence = selectors.evidence_get_for_user(user=request.user, pk=pk)
        if evidence.content_type not in THUMBNAIL_TYPES:
            raise Http404
        try:
            data = image_thumbnail(evidence.file)
        except (ValueError, OSError):
            raise Http404 from None
        response = HttpResponse(data, content_type="image/jpeg")
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        return response

    # --- actions ---------------------------------------------------------------------------

    def _intermediate(self, request, queryset, *, action, title, form, single=False, early=(), back_url=None):
        return TemplateResponse(request, "admin/disputes/resolve.html", {
            **self.admin_site.each_context(request), "title": title, "form": form, "action": action,
            "disputes": queryset, "opts": self.model._meta, "single": single, "early": early,
            "back_url": back_url, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    def _run(self, request, queryset, call) -> None:
        run_for_each(self, request, queryset, call, errors=(services.DisputeError,),
                     done_message=_("%(count)d dispute(s) updated."))

    def _action(self, request, queryset, *, step, action, single=False):
        form_class, title, decision = STEPS[step]
        form = form_class(request.POST if "apply" in request.POST else None)
        early = require_early_confirmation(form, queryset) if decision else []
        if form.is_valid():
            return self._run(request, queryset, lambda d: _decide(step, d, form.cleaned_data, request.user))
        return self._intermediate(request, queryset, action=action, form=form, title=title, single=single,
                                  early=early)

    @admin.action(description=gettext_lazy("Release to the seller"), permissions=["resolve"])
    def release_to_seller(self, request, queryset):
        return self._action(request, queryset, step="release", action="release_to_seller")

    @admin.action(description=gettext_lazy("Refund the buyer in full"), permissions=["resolve"])
    def refund_buyer_in_full(self, request, queryset):
        return self._action(request, queryset, step="refund", action="refund_buyer_in_full")

    @admin.action(description=gettext_lazy("Split between buyer and seller"), permissions=["resolve"])
    def split(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Split one dispute at a time."), messages.ERROR)
            return None
        return self._action(request, queryset, step="split", action="split", single=True)

    @admin.action(description=gettext_lazy("Write a message to the parties"), permissions=["message"])
    def write_message(self, request, queryset):
        return self._action(request, queryset, step="message", action="write_message")
