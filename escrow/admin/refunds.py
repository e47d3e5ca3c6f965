"""The refund requests' staff page, with the one action that crosses apps: upholding the seller's
rejection of returned goods moves the refund's money to the seller, so it calls its flow
(``escrow.services.escrow_return_rejection_uphold``); overruling stays the refunds app's own step."""
from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escrow import services
from intrasa.admin import run_for_each
from intrasa.errors import ServiceError
from refunds import services as refund_services
from refunds.admin import InspectionDecisionForm, RefundRequestAdmin
from refunds.models import RefundRequest

admin.site.unregister(RefundRequest)


@admin.register(RefundRequest)
class EscrowRefundRequestAdmin(RefundRequestAdmin):
    def _run(self, request, queryset, call) -> None:
        # The flow's steps below the refunds app refuse with their own errors (a reversed payment).
        run_for_each(self, request, queryset, call, errors=(ServiceError,),
                     done_message=_("%(count)d refund request(s) updated."))

    @admin.action(description=gettext_lazy("Decide a return the seller rejected at inspection"), permissions=["approve"])
    def decide_inspection(self, request, queryset):
        form = InspectionDecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data

            def decide(req):
                if data["accept"]:
                    return refund_services.return_inspection_decide(
                        return_shipment=req.return_shipment, actor=request.user, accept=True, reason=data["reason"])
                return services.escrow_return_rejection_uphold(return_shipment=req.return_shipment,
                                                               actor=request.user, reason=data["reason"],
                                                               resend_paid_by=data["resend_paid_by"])

            return self._run(request, queryset.select_related("return_shipment"), decide)
        return self._page(request, queryset, action="decide_inspection", form=form,
                          title=gettext_lazy("Decide a return the seller rejected at inspection"))
