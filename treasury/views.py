"""Admin pages of the treasury (mounted at /admin/treasury/ by intrasa/urls.py, each wrapped in
``admin.site.admin_view``): the SendMe treasury page and the CSV exports."""
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.services import audit_record

from .chart import volume_chart
from .exports import EXPORTS, csv_lines, export_rows
from .forms import ExportForm
from .models import ReconciliationItem, WithdrawalInstruction
from .selectors import payout_promise, penalty_forecast, sendme_balance, treasury_overview


@permission_required("treasury.view_treasury", raise_exception=True)
def treasury_page(request):
    overview = treasury_overview()
    promise, promise_rows = payout_promise()
    return render(request, "admin/treasury/dashboard.html", {
        "promise": promise, "promise_rows": promise_rows,
        **admin.site.each_context(request),
        "title": _("SendMe treasury"),
        "balance": sendme_balance(),
        "overview": overview,
        "chart": volume_chart(overview.volume),
        "forecast": penalty_forecast(),
        "open_items": ReconciliationItem.objects.filter(state=ReconciliationItem.State.OPEN).count(),
        "prepared_withdrawals": WithdrawalInstruction.objects.filter(
            status=WithdrawalInstruction.Status.PREPARED).count(),
    })


@permission_required("treasury.export_data", raise_exception=True)
def export_page(request):
    """GET without a kind: the form. GET with a valid form: the CSV, streamed."""
    form = ExportForm(request.GET if "kind" in request.GET else None, initial=ExportForm.default_range())
    if form.is_bound and form.is_valid():
        export = EXPORTS[form.cleaned_data["kind"]]
        if not request.user.has_perm(export.permission):
            raise PermissionDenied
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        # Who took which personal data out of the system, and for which days.
        audit_record(actor=request.user, action=f"export.{export.name}", target=request.user,
                     data={"start": start.isoformat(), "end": end.isoformat()})
        response = StreamingHttpResponse(csv_lines(export, export_rows(export, start=start, end=end)),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="intrasa-{export.name}-{start}-{end}.csv"'
        return response
    return render(request, "admin/treasury/export.html", {
        **admin.site.each_context(request), "title": _("Export CSV"), "form": form,
    })
