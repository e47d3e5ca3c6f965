from django.contrib import admin

from .models import Bill, Callback, DepositAccount, Fault, SandboxConfig, Transfer


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = ["bill_no", "trx_id", "payment_channel", "bill_total", "status_code", "created_at"]
    search_fields = ["bill_no", "trx_id"]


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = ["partner_reference_no", "kind", "amount", "beneficiary_account_no", "status", "created_at"]
    search_fields = ["partner_reference_no", "reference_no", "beneficiary_account_no"]


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    list_display = ["kind", "url", "state", "attempts", "last_status", "created_at"]
    list_filter = ["kind", "state"]


admin.site.register([SandboxConfig, DepositAccount, Fault])
