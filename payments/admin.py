"""Staff views of the provider's notifications, as received. (Bills and the bank-statement import
are staff pages that place money, which may open refund requests: ``escrow.admin``.)"""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from intrasa.admin import ReadOnlyAdmin

from .models import ProviderNotification


def transaction_link(txn):
    if txn is None:
        return "-"
    url = reverse("admin:transactions_escrowtransaction_change", args=[txn.pk])
    return format_html('<a href="{}">{}</a>', url, txn.reference)


@admin.register(ProviderNotification)
class ProviderNotificationAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "provider", "trx_id", "bill_link", "status_code", "deliveries")
    list_select_related = ("bill",)

    @admin.display(description=gettext_lazy("Bill"), ordering="bill_no")
    def bill_link(self, obj):
        if obj.bill_id is None:
            return obj.bill_no
        return format_html('<a href="{}">{}</a>', reverse("admin:payments_bill_change", args=[obj.bill_id]),
                           obj.bill_no)
    list_filter = ("status_code",)
    search_fields = ("trx_id", "bill_no")
