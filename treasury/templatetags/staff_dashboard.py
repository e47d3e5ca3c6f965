"""The SLA panel of the staff admin index (templates/admin/index.html)."""
from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from ..selectors import optional_model, sla_counts

register = template.Library()


def _changelist(user, app_label: str, model_name: str, query: str = "") -> str:
    """The filtered admin list, or "" if the user may not see it."""
    if not user.has_perm(f"{app_label}.view_{model_name}"):
        return ""
    try:
        url = reverse(f"admin:{app_label}_{model_name}_changelist")
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


@register.inclusion_tag("admin/treasury/sla_panel.html", takes_context=True)
def sla_panel(context):
    user = context["request"].user
    counts = sla_counts()
    txn = lambda query: _changelist(user, "transactions", "escrowtransaction", query)  # noqa: E731
    payout = lambda query: _changelist(user, "disbursements", "payout", query)  # noqa: E731
    rows = [
        (_("Payments awaiting verification (transactions in “paid”)"), counts["awaiting_verification"],
         txn("sla=awaiting_verification")),
        (_("Bills paid but not verified"), counts["paid_not_verified"], _changelist(user, "payments", "bill",
                                                                                   "status__exact=paid")),
        (_("Shipments past the deadline"), counts["shipping_overdue"], txn("sla=shipping_overdue")),
        (_("Confirmations due (inspection ends within 24 hours)"), counts["confirmations_due"],
         txn("sla=confirmations_due")),
        (_("Payouts due within 24 hours (1×24 working-hour promise)"), counts["payouts_due_24h"],
         payout("due=due_24h")),
        (_("Payouts not yet due"), counts["payouts_due"], payout("due=open")),
        (_("Payouts overdue"), counts["payouts_overdue"], payout("due=overdue")),
    ]
    disputes = counts["disputes"]
    if disputes["source"] == "disputes":
        model = optional_model("disputes", "Dispute")
        dispute_link = lambda bucket: _changelist(user, "disputes", model._meta.model_name)  # noqa: E731
    else:
        dispute_link = lambda bucket: txn(f"sla=disputed_{bucket}")  # noqa: E731
    dispute_rows = [(_("under 3 days"), disputes["lt3"], dispute_link("lt3")),
                    (_("3 to 7 days"), disputes["3to7"], dispute_link("3to7")),
                    (_("over 7 days"), disputes["gt7"], dispute_link("gt7"))]
    refund_model = optional_model("refunds", "RefundRequest") or optional_model("refunds", "Refund")
    refund_rows = []
    for status, label, count in counts["refunds"]:
        if refund_model is not None:
            link = _changelist(user, "refunds", refund_model._meta.model_name, f"status__exact={status}")
        else:
            link = payout(f"purpose__exact=buyer_refund&status__exact={status}")
        refund_rows.append((label, count, link))
    return {"rows": rows, "dispute_rows": dispute_rows, "refund_rows": refund_rows,
            "show_treasury": user.has_perm("treasury.view_treasury"),
            "show_export": user.has_perm("treasury.export_data"), "now": counts["now"]}
