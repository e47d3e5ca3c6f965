"""Staff pages that place collected money — finance recording the amount Faspay's report shows for
a paid bill, booking a payment Faspay reversed (or lifting its freeze when Faspay still holds it),
and importing the escrow account's bank statement — with the bills' list they start from. Placing
money may owe it back to the buyer, so each calls its flow (``escrow.services``)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escrow import services
from intrasa.admin import ReadOnlyAdmin
from intrasa.errors import ServiceError
from intrasa.forms import RupiahField
from intrasa.money import format_rupiah
from payments.admin import transaction_link
from payments.models import BankStatementLine, Bill
from payments.selectors import INQUIRY_UNANSWERED, reversal_to_recover
from payments.services import StaffPaymentError, StatementLine, bill_reversal_lift
from payments.statement import statement_rows


class AwaitingAmountFilter(admin.SimpleListFilter):
    """Finance's queue: paid at Faspay, amount stated by no source (a lost notification)."""

    title = gettext_lazy("amount")
    parameter_name = "amount"

    def lookups(self, request, model_admin):
        return [("unknown", gettext_lazy("Paid, amount not known yet"))]

    def queryset(self, request, queryset):
        if self.value() == "unknown":
            return queryset.filter(status=Bill.Status.PAID, amount_source="")
        return queryset


class ReversalFilter(admin.SimpleListFilter):
    """Finance's second queue: payments Faspay reported reversed, not booked yet (their money is frozen)."""

    title = gettext_lazy("reversal")
    parameter_name = "reversal"

    def lookups(self, request, model_admin):
        return [("to_book", gettext_lazy("Reversed by Faspay, not booked yet")),
                ("booked", gettext_lazy("Reversal booked"))]

    def queryset(self, request, queryset):
        if self.value() == "to_book":
            return queryset.filter(flag=Bill.Flag.REVERSED, status__in=[Bill.Status.PAID, Bill.Status.VERIFIED])
        if self.value() == "booked":
            return queryset.filter(status=Bill.Status.REVERSED)
        return queryset


class InquiryUnansweredFilter(admin.SimpleListFilter):
    """Finance's third queue: bills Faspay has not answered about for a day (``payments.polling``);
    INTRASA keeps asking, a person reads them in Faspay's report meanwhile."""

    title = gettext_lazy("status inquiry")
    parameter_name = "inquiry"

    def lookups(self, request, model_admin):
        return [("unanswered", gettext_lazy("Faspay does not answer"))]

    def queryset(self, request, queryset):
        if self.value() == "unanswered":
            return queryset.filter(INQUIRY_UNANSWERED)
        return queryset


class BookReversalForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason and source"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000,
                             help_text=gettext_lazy("Which Faspay report (and its date) shows the reversal. Both "
                                                    "parties read it on the transaction's timeline."))


class LiftReversalForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason and source"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000,
                             help_text=gettext_lazy("Which Faspay report (and its date) shows that Faspay still "
                                                    "holds the payment."))


class ReversalSettleForm(forms.Form):
    amount = RupiahField(label=gettext_lazy("Amount (Rp)"), min_value=1)
    how = forms.ChoiceField(label=gettext_lazy("What happened"), widget=forms.RadioSelect, choices=[
        ("recovered", gettext_lazy("Recovered: paid back into INTRASA's operating account")),
        ("written_off", gettext_lazy("Written off: it cannot be recovered"))])
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text=gettext_lazy("From whom it was recovered and the bank reference, or why it "
                                                    "cannot be."))


class ProviderAmountForm(forms.Form):
    # What Faspay's report says: bounded by what the service accepts, whatever the bill asked.
    amount = RupiahField(label=gettext_lazy("Amount Faspay collected (Rp)"), min_value=1)
    trx_id = forms.CharField(label=gettext_lazy("Faspay trx_id"), max_length=40, required=False,
                             help_text=gettext_lazy("Needed only when INTRASA never learnt the bill's trx_id."))
    reason = forms.CharField(label=gettext_lazy("Reason and source"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Which Faspay report (and its date) shows this amount."))


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = ("bill_no", "transaction", "method", "channel_code", "amount_display", "status", "flag_display",
                    "inquiry_display", "paid_amount_display", "created_at", "expires_at", "settlement_expected_at")
    readonly_fields = ("transaction",)
    list_filter = (AwaitingAmountFilter, ReversalFilter, InquiryUnansweredFilter, "status", "flag", "method", "channel_code")
    search_fields = ("bill_no", "provider_trx_id", "pay_code", "escrow_transaction__reference")
    list_select_related = ("escrow_transaction",)
    date_hierarchy = "created_at"

    @admin.display(description=gettext_lazy("Amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)

    @admin.display(description=gettext_lazy("Transaction"), ordering="escrow_transaction__reference")
    def transaction(self, obj):
        return transaction_link(obj.escrow_transaction)

    @admin.display(description=gettext_lazy("Paid"), ordering="paid_amount")
    def paid_amount_display(self, obj):
        if obj.status == Bill.Status.PAID and not obj.amount_known:
            # Finance records it (the view checks the permission).
            url = reverse("admin:payments_bill_record_amount", args=[obj.pk])
            return format_html('<a href="{}">{}</a>', url, _("unknown: record it"))
        return format_rupiah(obj.paid_amount) if obj.paid_amount is not None else "—"

    @admin.display(description=gettext_lazy("Flag"), ordering="flag")
    def flag_display(self, obj):
        if obj.flag == Bill.Flag.REVERSED and obj.status in (Bill.Status.PAID, Bill.Status.VERIFIED):
            # Finance books it (the view checks the permission).
            return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>',
                               reverse("admin:payments_bill_book_reversal", args=[obj.pk]), _("reversed: book it"),
                               reverse("admin:payments_bill_lift_reversal", args=[obj.pk]), _("or lift the freeze"))
        if obj.status == Bill.Status.REVERSED:
            # What it left owed to INTRASA, if anything, is recovered or written off there.
            url = reverse("admin:payments_bill_settle_reversal", args=[obj.pk])
            return format_html('<a href="{}">{}</a>', url, _("reversal booked: recover"))
        return obj.get_flag_display() if obj.flag else "—"

    @admin.display(description=gettext_lazy("Faspay asked"))
    def inquiry_display(self, obj):
        if obj.inquiry_unanswered:
            return _("no answer since %(since)s") % {
                "since": date_format(timezone.localtime(obj.inquiry_failing_since), "SHORT_DATETIME_FORMAT")}
        return "—"

    @staticmethod
    def _bill_for(request, pk, permission: str, **filters) -> Bill:
        """The bill a staff page acts on, for a user with ``permission``; a bill that does not exist (or does
        not match ``filters``) is refused like a missing permission."""
        if not request.user.has_perm(permission):
            raise PermissionDenied
        bill = Bill.objects.select_related("escrow_transaction").filter(pk=pk, **filters).first()
        if bill is None:
            raise PermissionDenied
        return bill

    def get_urls(self):
        return [path("<int:pk>/record-amount/", self.admin_site.admin_view(self.record_amount_view),
                     name="payments_bill_record_amount"),
                path("<int:pk>/book-reversal/", self.admin_site.admin_view(self.book_reversal_view),
                     name="payments_bill_book_reversal"),
                path("<int:pk>/settle-reversal/", self.admin_site.admin_view(self.settle_reversal_view),
                     name="payments_bill_settle_reversal"),
                path("<int:pk>/lift-reversal/", self.admin_site.admin_view(self.lift_reversal_view),
                     name="payments_bill_lift_reversal"), *super().get_urls()]

    def _bill_page(self, request, bill, form, *, act, back: str, template: str, title: str, **context):
        """A finance page on one bill: its form, and on a valid POST the service call ``act(cleaned_data)``
        (which says what it did with ``messages``). A refusal by the service is shown on the form and nothing
        changed; a success goes back to the bills' list filtered by ``back``."""
        if request.method == "POST" and form.is_valid():
            try:
                act(form.cleaned_data)
            except ServiceError as exc:  # refused by the service (or any step of its flow): nothing changed
                form.add_error(None, exc.message)
            else:
                return redirect(reverse("admin:payments_bill_changelist") + back)
        return render(request, f"admin/payments/bill/{template}", {
            **self.admin_site.each_context(request), "form": form, "bill": bill, "opts": self.model._meta,
            "title": title, **context})

    def lift_reversal_view(self, request, pk):
        """Lift the freeze of a payment Faspay reported reversed but still holds (``bill_reversal_lift``)."""
        bill = self._bill_for(request, pk, "payments.book_provider_reversal")

        def lift(data):
            bill_reversal_lift(bill_id=bill.pk, actor=request.user, reason=data["reason"])
            messages.success(request, _("The freeze of %(bill)s is lifted: its money moves again.") % {"bill": bill.bill_no})

        return self._bill_page(request, bill, LiftReversalForm(request.POST or None), act=lift, back="?reversal=to_book",
                               template="lift_reversal.html", title=_("Lift the freeze of a reported reversal"))

    def settle_reversal_view(self, request, pk):
        """Record what finance recovered of a booked reversal's receivable, or write it off."""
        bill = self._bill_for(request, pk, "payments.book_provider_reversal", status=Bill.Status.REVERSED)
        to_recover = reversal_to_recover(bill=bill)

        def settle(data):
            left = services.bill_reversal_settle(bill_id=bill.pk, amount=data["amount"], how=data["how"],
                                                 actor=request.user, reason=data["reason"])
            messages.success(request, _("Recorded. Still to recover for %(bill)s: %(amount)s.") % {
                "bill": bill.bill_no, "amount": format_rupiah(left)})

        form = ReversalSettleForm(request.POST or None, initial={"amount": to_recover or None})
        return self._bill_page(request, bill, form, act=settle, back="?reversal=booked",
                               template="settle_reversal.html", title=_("Recover a reversed payment"),
                               to_recover=to_recover)

    def book_reversal_view(self, request, pk):
        """Book a payment Faspay reported reversed, from Faspay's report (``escrow_book_provider_reversal``)."""
        bill = self._bill_for(request, pk, "payments.book_provider_reversal")

        def book(data):
            booked = services.escrow_book_provider_reversal(bill_id=bill.pk, actor=request.user, reason=data["reason"])
            messages.success(request, _("The reversal of %(bill)s is booked.") % {"bill": bill.bill_no})
            for item in booked:
                if item.to_recover:
                    messages.warning(request, _("%(reference)s: %(amount)s had already left the escrow and is "
                                                "now owed to INTRASA; recover it.") % {
                        "reference": item.reference, "amount": format_rupiah(item.to_recover)})

        return self._bill_page(request, bill, BookReversalForm(request.POST or None), act=book, back="?reversal=booked",
                               template="book_reversal.html", title=_("Book a payment Faspay reversed"))

    def record_amount_view(self, request, pk):
        """Record what Faspay's report says a paid bill collected (its notification was lost)."""
        bill = self._bill_for(request, pk, "payments.record_provider_payment")

        def record(data):
            services.bill_record_provider_amount(bill_id=bill.pk, amount=data["amount"], actor=request.user,
                                                 reason=data["reason"], trx_id=data["trx_id"])
            messages.success(request, _("The amount of %(bill)s is recorded and the payment placed.")
                             % {"bill": bill.bill_no})

        return self._bill_page(request, bill, ProviderAmountForm(request.POST or None), act=record, back="?amount=unknown",
                               template="record_amount.html", title=_("Record the amount Faspay collected"))


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Bank statement (CSV)"), help_text=gettext_lazy(
        "Columns: date (YYYY-MM-DD), description, amount (Rupiah), reference. Credit lines only."))

    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        return statement_rows(text)


class MatchLineForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("Reference number of the payer's transaction"), max_length=30)
    reason = forms.CharField(label=gettext_lazy("How you know who sent it"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("E.g. the buyer's bank statement, the sender's name on the line."))


@admin.register(BankStatementLine)
class BankStatementLineAdmin(ReadOnlyAdmin):
    list_display = ("booked_on", "amount_display", "description", "bank_reference", "matched_bill", "payer",
                    "imported_by")
    list_filter = (("matched_bill", admin.EmptyFieldListFilter), ("assigned_transaction", admin.EmptyFieldListFilter),
                   "booked_on")
    search_fields = ("description", "bank_reference", "matched_bill__bill_no")
    list_select_related = ("matched_bill", "imported_by", "assigned_transaction")
    change_list_template = "admin/payments/bankstatementline/change_list.html"

    @admin.display(description=gettext_lazy("Amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)

    @admin.display(description=gettext_lazy("Matched to payer"))
    def payer(self, obj):
        if obj.assigned_transaction_id:
            return transaction_link(obj.assigned_transaction)
        if obj.matched_bill_id is None:
            url = reverse("admin:payments_statement_match", args=[obj.pk])
            return format_html('<a href="{}">{}</a>', url, _("in suspense: match and refund"))
        return "—"

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view), name="payments_statement_import"),
                path("<int:pk>/match/", self.admin_site.admin_view(self.match_view), name="payments_statement_match"),
                *super().get_urls()]

    def match_view(self, request, pk):
        """Match an unmatched credit (held in suspense) to its payer's transaction and refund it."""
        if not request.user.has_perm("payments.record_provider_payment"):
            raise PermissionDenied
        line = BankStatementLine.objects.filter(pk=pk).first()
        if line is None:
            raise PermissionDenied
        form = MatchLineForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.statement_line_match_and_refund(
                    line_id=line.pk, reference=form.cleaned_data["reference"], actor=request.user,
                    reason=form.cleaned_data["reason"])
            except StaffPaymentError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("%(amount)s is now owed back to the buyer of %(reference)s; its refund "
                                            "request is open.") % {"amount": format_rupiah(line.amount),
                                                                   "reference": refund.escrow_transaction.reference})
                return redirect(reverse("admin:payments_bankstatementline_changelist"))
        return render(request, "admin/payments/bankstatementline/match.html", {
            **self.admin_site.each_context(request), "form": form, "line": line, "opts": self.model._meta,
            "title": _("Match an unmatched credit to its payer")})

    def import_view(self, request):
        if not request.user.has_perm("payments.add_bankstatementline"):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            counts = services.statement_import(rows=form.cleaned_data["file"], staff=request.user)
            matched, unmatched = counts[StatementLine.MATCHED], counts[StatementLine.UNMATCHED]
            messages.success(request, _("%(imported)d lines imported, %(matched)d payments verified, "
                                        "%(unmatched)d unmatched, %(duplicates)d already imported.") % {
                "imported": matched + unmatched, "matched": matched, "unmatched": unmatched,
                "duplicates": counts[StatementLine.DUPLICATE]})
            return redirect(reverse("admin:payments_bankstatementline_changelist"))
        return render(request, "admin/payments/bankstatementline/import.html",
                      {**self.admin_site.each_context(request), "form": form, "title": _("Import bank statement")})
