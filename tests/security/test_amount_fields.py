"""Every amount a person can type, on the website and in the staff admin, with hostile values.

Two parts:

1. The amount inputs are *found*, not listed: every form class of the project's ``forms`` and
   ``admin`` modules, and the form of every editable model admin. An amount field (a name about
   money, or a model ``BigIntegerField``) must be the shared ``intrasa.forms.RupiahField``, and
   any other number field must be on the short list of non-money numbers below. The inputs found
   must be exactly those the walk in part 2 drives, so a new amount input fails here until it is
   walked.
2. Each amount input is driven through its real page with huge, negative, decimal, non-ASCII-digit
   and 5,000-digit values (and one Rupiah over its maximum): no answer is 5xx, the page shows an
   error, and nothing in the database changes (rows of every project model, statuses, ledger).
"""
import datetime as dt
import importlib
import io
import pkgutil

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from disputes import services as dispute_services
from disputes.models import Dispute
from intrasa.forms import RupiahField
from intrasa.money import BIGINT_MAX
from intrasa.wib import now_wib
from ledger.models import Posting
from payments.models import Bill
from tests import scenarios
from tests.factories import StaffFactory
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db

# Numbers that are not money (days, basis points): plain integer fields are right for them.
NOT_MONEY = {
    "treasury.forms.FaspayInvoiceForm.transactions",  # a count of SendMe transactions
    "transactions.forms.TransactionCreateForm.inspection_days",
    "transactions.forms.TransactionCreateForm.shipping_days",
    "transactions.admin.FeeTierForm.percent_basis_points",
    "transactions.forms.TransactionCreateForm.restocking_fee_percent",  # a percentage, not Rupiah
    # A payment link carries the create form's terms (days, a percentage) and a count of transactions.
    "paylinks.forms.PaymentLinkForm.inspection_days",
    "paylinks.forms.PaymentLinkForm.shipping_days",
    "paylinks.forms.PaymentLinkForm.restocking_fee_percent",
    "paylinks.forms.PaymentLinkForm.max_transactions",
    "paylinks.forms.LimitForm.max_transactions",
    "milestones.forms.PlanForm.inspection_days",
}
MONEY_WORDS = ("amount", "price", "cost", "fee", "limit", "total", "balance", "shipping", "nominal", "harga")
# Records of logging in (the walk logs staff in), not changes an amount input could make.
LOGIN_RECORDS = {"axes", "privacy.LoginRecord", "privacy.StaffAccessLog"}
# The sandbox is the provider's stand-in (its admin edits the provider's rows), not INTRASA.
SKIPPED_APPS = {"sandbox"}

HOSTILE = {
    "over bigint": "9" * 19,
    "over bigint, dotted": "Rp 99.999.999.999.999.999.999",
    "negative": "-150.000",
    "negative after Rp": "Rp -150.000",
    "decimal comma": "150.000,50",
    "decimal point": "1500.5",
    "full-width digits": "１５００００",
    "Arabic-Indic digits": "١٥٠٠٠٠",
    "superscript digits": "¹⁵⁰⁰⁰⁰",
    "circled digits": "①⑤⓪⓪⓪⓪",
    "4,301 digits": "9" * 4301,
    "5,000 digits": "9" * 5000,
    "zero": "0",
}


def project_apps():
    return [config for config in apps.get_app_configs()
            if not config.name.startswith("django") and config.label not in SKIPPED_APPS]


def _is_number_field(field) -> bool:
    return isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField, RupiahField))


def _looks_like_money(name: str) -> bool:
    return any(word in name.lower() for word in MONEY_WORDS)


def _superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = StaffFactory(email="root@intrasa.co.id", is_superuser=True)
    return request


def discovered_amount_inputs():
    """``{"module.Form.field": field}`` for every amount input, and the misfits (wrong type)."""
    found, misfits = {}, []

    def inspect(form_class, label, model=None):
        for name, field in form_class.base_fields.items():
            key = f"{label}.{name}"
            model_field = None
            if model is not None:
                try:
                    model_field = model._meta.get_field(name)
                except FieldDoesNotExist:
                    pass
            edits_an_amount = (isinstance(model_field, models.BigIntegerField)
                               and not isinstance(model_field, models.PositiveBigIntegerField))
            if key in NOT_MONEY:
                continue
            if isinstance(field, RupiahField):
                found[key] = field
            elif edits_an_amount or (_looks_like_money(name) and isinstance(field, (forms.CharField, forms.IntegerField,
                                                                                     forms.DecimalField,
                                                                                     forms.FloatField))):
                found[key] = field
                misfits.append(f"{key} is a {type(field).__name__}, not a RupiahField")
            elif _is_number_field(field):
                misfits.append(f"{key} is a {type(field).__name__}: money must be a RupiahField, other "
                               "numbers go on NOT_MONEY")

    for config in project_apps():
        for module_name in ("forms", "admin"):
            try:
                module = importlib.import_module(f"{config.name}.{module_name}")
            except ModuleNotFoundError:
                continue
            # An admin (or forms) package: its submodules declare the forms.
            modules = [module] + [importlib.import_module(f"{module.__name__}.{info.name}")
                                  for info in pkgutil.iter_modules(getattr(module, "__path__", []))]
            for each in modules:
                for attr in vars(each).values():
                    if (isinstance(attr, type) and issubclass(attr, forms.BaseForm)
                            and attr.__module__ == each.__name__):
                        model = getattr(getattr(attr, "_meta", None), "model", None)
                        inspect(attr, f"{each.__name__}.{attr.__name__}", model)
    request = _superuser_request()
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in SKIPPED_APPS or model._meta.app_config.name.startswith("django"):
            continue
        if not (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)):
            continue
        form_class = model_admin.get_form(request)
        declared = model_admin.form
        label = (f"{declared.__module__}.{declared.__name__}" if declared is not forms.ModelForm
                 else f"admin:{model._meta.label}")
        inspect(form_class, label, model)
    return found, misfits


# --- the walk: each amount input through its real page ---------------------------------------------

@pytest.fixture
def world(seller, buyer):
    disputed = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = dispute_services.dispute_open(escrow_transaction=disputed, buyer=buyer, reason="defective",
                                            description="Layar retak")
    verified = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    root = StaffFactory(email="root@intrasa.co.id", is_superuser=True)
    # A bill Faspay says was paid, whose amount no notification stated: finance records it.
    paid = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    awaiting = Bill.objects.create(
        escrow_transaction=paid, method="va", channel_code="702", bill_no="INTAWAITING0001",
        provider_trx_id="7020000000000001", amount=paid.amount_due, status=Bill.Status.PAID,
        expires_at=timezone.now() + dt.timedelta(hours=24), creation_attempts=1)
    # A charge the buyer reported that finance book from Faspay's report (refunds.policy: failed but charged).
    from refunds import services as refund_services

    reported = refund_services.refund_request_submit(escrow_transaction=verified, buyer=buyer, case="failed_payment",
                                                     amount=10_000, description="Terpotong tapi gagal")
    # A payment Faspay took back after INTRASA had paid it out, booked: finance recover what it left owed.
    from ledger.models import AccountCategory, EntryKind
    from ledger.services import credit, debit, entry_post

    taken_back = Bill.objects.create(
        escrow_transaction=paid, method="va", channel_code="702", bill_no="INTREVERSED0001",
        provider_trx_id="7020000000000002", amount=paid.amount_due, status=Bill.Status.REVERSED,
        flag=Bill.Flag.REVERSED, paid_amount=paid.amount_due, expires_at=timezone.now(), creation_attempts=1)
    entry_post(idempotency_key=f"bill:{taken_back.pk}:txn:{paid.pk}:taken-back", kind=EntryKind.PAYMENT_TAKEN_BACK,
               memo="taken back after its payout", escrow_transaction=paid,
               lines=[debit(AccountCategory.REVERSAL_RECEIVABLE, 100_000),
                      credit(AccountCategory.PROVIDER_CLEARING, 100_000)])
    return {"seller": seller, "buyer": buyer, "dispute": dispute, "verified": verified, "root": root,
            "awaiting_bill": awaiting, "reported_charge": reported, "taken_back_bill": taken_back}


def snapshot():
    """Rows of every project model, the statuses that move without new rows, and the ledger."""
    counts = {model._meta.label: model.objects.count()
              for config in apps.get_app_configs()
              if not config.name.startswith("django") and config.label not in LOGIN_RECORDS
              for model in config.get_models() if model._meta.label not in LOGIN_RECORDS}
    return {
        "counts": counts,
        "transactions": sorted(EscrowTransaction.objects.values_list("pk", "status", "price", "shipping_cost")),
        "disputes": sorted(Dispute.objects.values_list("pk", "status")),
        "ledger": sorted(Posting.objects.values_list("account_id", "side", "amount")),
    }


CREATE = {"title": "Sepeda", "description": "Lengkap", "category": "physical", "price": "2.500.000",
          "shipping_cost": "25.000", "fee_payer": "buyer", "inspection_days": "3", "shipping_days": "2",
          "buyer_email": "budi@example.co.id"}


def _page_has_error(response, field=None) -> bool:
    context = response.context
    if context is None:
        return response.status_code == 400
    for key in ("form", "adminform"):
        form = context.get(key) if hasattr(context, "get") else None
        form = getattr(form, "form", form)
        if form is not None and hasattr(form, "errors") and form.errors:
            return True
    formset = context.get("formset") if hasattr(context, "get") else None  # the milestones of a plan
    if formset is not None and (any(formset.errors) or formset.non_form_errors()):
        return True
    messages = context.get("messages") if hasattr(context, "get") else None
    return bool(messages and list(messages))


def create_transaction(client, w, field, value):
    client.force_login(w["seller"])
    return client.post(reverse("transactions:create"), {**CREATE, field: value})


def quote(client, w, field, value):
    return client.get(reverse("transactions:quote"),
                      {"price": "1.000.000", "shipping_cost": "0", "fee_payer": "buyer", field: value})


def fee_calculator(client, w, field, value):
    return client.get(reverse("pages:fees"),
                      {"price": "1.000.000", "shipping_cost": "", "fee_payer": "buyer", field: value})


def settlement_offer(client, w, field, value):
    client.force_login(w["buyer"])
    return client.post(reverse("disputes:propose", args=[w["dispute"].escrow_transaction.reference]),
                       {"outcome": "split", "return_shipping_payer": "none", field: value}, follow=True)


def refund_request(client, w, field, value):
    client.force_login(w["buyer"])
    return client.post(reverse("refunds:detail", args=[w["verified"].reference]),
                       {"case": "failed_payment", "description": "Terpotong", field: value}, follow=True)


def dispute_action(action):
    def run(client, w, field, value):
        client.force_login(w["root"])
        return client.post(reverse("admin:disputes_dispute_changelist"), {
            "action": action, ACTION_CHECKBOX_NAME: [w["dispute"].pk], "apply": "1", "reason": "Keputusan staf",
            "refund_case": "settlement", field: value})
    return run


def daily_limit(client, w, field, value):
    client.force_login(w["root"])
    return client.post(reverse("admin:disbursements_dailylimitchange_add"), {
        "effective_from": now_wib().date().isoformat(), "reason": "Surat persetujuan Faspay no. 1", field: value})


def withdrawal(client, w, field, value):
    client.force_login(w["root"])
    return client.post(reverse("admin:treasury_withdrawalinstruction_add"), {
        "kind": "domestic", "bank_name": "DBS", "account_number": "123", "account_holder": "INTRASA PTE",
        "swift_code": "DBSSSGSG", "country": "Singapore", "currency": "SGD", "reason": "Uji penarikan",
        "_confirm": "1", field: value})


def faspay_invoice(client, w, field, value):
    client.force_login(w["root"])
    return client.post(reverse("admin:treasury_faspayinvoice_add"), {
        "invoice_number": "FP/2026/05/001", "month": "2026-05-01", "transactions": "3", field: value})


def provider_amount(client, w, field, value):
    client.force_login(w["root"])
    return client.post(reverse("admin:payments_bill_record_amount", args=[w["awaiting_bill"].pk]), {
        "reason": "Laporan transaksi Faspay", "trx_id": "", field: value})


def reversal_recovery(client, w, field, value):
    client.force_login(w["root"])
    return client.post(reverse("admin:payments_bill_settle_reversal", args=[w["taken_back_bill"].pk]), {
        "how": "recovered", "reason": "Penjual mentransfer kembali", field: value})


def short_shipment(client, w, field, value):
    client.force_login(w["buyer"])
    return client.post(reverse("disputes:open", args=[w["verified"].reference]), {
        "reason": "short_shipment", "description": "Kurang satu", "missing_items": "Charger", field: value},
        follow=True)


def charge_booking(client, w, field, value):
    client.force_login(w["root"])
    return client.post(reverse("admin:refunds_refundrequest_changelist"), {
        "action": "book_charge", ACTION_CHECKBOX_NAME: [w["reported_charge"].pk], "apply": "1", "source": "provider",
        "bill_no": "INTAWAITING0001", "trx_id": "7020000000000001", "reason": "Laporan Faspay", field: value})


def fee_tier(client, w, field, value):
    """An edit of the top tier that the schedule accepts (its own range overlaps no other tier),
    but for the hostile value."""
    from transactions.models import FeeTier

    client.force_login(w["root"])
    top = FeeTier.objects.get(max_amount__isnull=True)
    return client.post(reverse("admin:transactions_feetier_change", args=[top.pk]), {
        "min_amount": str(top.min_amount), "max_amount": "", "flat_fee": "0", "percent_basis_points": "10",
        "minimum_fee": "0", "maximum_fee": "", "reason": "Uji nilai berbahaya", field: value})


PAYMENT_LINK = {"title": "iPhone 11 bekas", "description": "64 GB", "category": "physical", "price": "2.750.000",
                "shipping_cost": "25.000", "fee_payer": "buyer", "inspection_days": "2", "shipping_days": "2",
                "max_transactions": "3"}


def payment_link(client, w, field, value):
    client.force_login(w["seller"])
    return client.post(reverse("paylinks:create"), {**PAYMENT_LINK, field: value})


def milestone_plan(client, w, field, value):
    """The hostile amount in the second of three milestones; the others are valid."""
    client.force_login(w["seller"])
    today = timezone.localdate()
    milestones = {f"m-{i}-{key}": typed for i in range(3) for key, typed in (
        ("title", f"Tahap {i + 1}"), ("amount", "1.000.000"), ("due_date", (today + dt.timedelta(days=10 * (i + 1))).isoformat()))}
    return client.post(reverse("milestones:create"), {
        "title": "Aplikasi kasir", "description": "Tiga tahap", "buyer_email": w["buyer"].email,
        "payment_schedule": "per_milestone", "fee_payer": "split", "inspection_days": "3",
        "m-TOTAL_FORMS": "3", "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "2", "m-MAX_NUM_FORMS": "10",
        **milestones, f"m-1-{field}": value})


WALKS = {
    "transactions.forms.TransactionCreateForm.price": create_transaction,
    "paylinks.forms.PaymentLinkForm.price": payment_link,
    "paylinks.forms.PaymentLinkForm.shipping_cost": payment_link,
    "milestones.forms.MilestoneForm.amount": milestone_plan,
    "transactions.forms.TransactionCreateForm.shipping_cost": create_transaction,
    "transactions.forms.FeeQuoteForm.price": quote,
    "transactions.forms.FeeQuoteForm.shipping_cost": quote,
    "pages.forms.FeeCalculatorForm.price": fee_calculator,
    "pages.forms.FeeCalculatorForm.shipping_cost": fee_calculator,
    "disputes.forms.OfferForm.buyer_amount": settlement_offer,
    "refunds.forms.RefundRequestForm.amount": refund_request,
    "disputes.forms.DisputeOpenForm.missing_value": short_shipment,
    "refunds.admin.ChargeBookForm.amount": charge_booking,
    "disputes.admin.RefundForm.return_shipping": dispute_action("refund_buyer_in_full"),
    "disputes.admin.SplitForm.buyer_amount": dispute_action("split"),
    "disbursements.admin.DailyLimitChangeForm.limit": daily_limit,
    "treasury.forms.WithdrawalForm.amount": withdrawal,
    "treasury.forms.FaspayInvoiceForm.penalty": faspay_invoice,
    "escrow.admin.bills.ProviderAmountForm.amount": provider_amount,
    "escrow.admin.bills.ReversalSettleForm.amount": reversal_recovery,
    **{f"transactions.admin.FeeTierForm.{name}": fee_tier
       for name in ("min_amount", "max_amount", "flat_fee", "minimum_fee", "maximum_fee")},
}


def test_every_amount_input_is_a_rupiah_field_and_is_walked(db):
    found, misfits = discovered_amount_inputs()
    assert not misfits, "\n".join(misfits)
    assert set(found) == set(WALKS), (
        f"amount inputs not walked: {sorted(set(found) - set(WALKS))}; "
        f"walked but gone: {sorted(set(WALKS) - set(found))}")


@pytest.mark.parametrize("key", sorted(WALKS))
def test_hostile_amounts_answer_with_an_error_and_change_nothing(client, world, key):
    module_name, form_name, field = key.rsplit(".", 2)
    form_field = getattr(importlib.import_module(module_name), form_name).base_fields[field]
    values = dict(HOSTILE)
    if form_field.max_value + 1 <= BIGINT_MAX:
        values["one Rupiah over the maximum"] = str(form_field.max_value + 1)
    if form_field.min_value <= 0:
        values.pop("zero")
    before = snapshot()
    for label, value in values.items():
        response = WALKS[key](client, world, field, value)
        assert response.status_code < 500, (key, label, response.status_code)
        assert _page_has_error(response), (key, label, "no error shown")
        assert snapshot() == before, (key, label, "the database changed")


@pytest.mark.parametrize("label,value", sorted(HOSTILE.items()))
def test_rupiah_field_refuses_each_hostile_value_with_a_message(label, value):
    field = RupiahField(min_value=1, max_value=1_000_000_000)
    with pytest.raises(forms.ValidationError) as refused:
        field.clean(value)
    assert refused.value.messages and all(message.strip() for message in refused.value.messages)


@pytest.mark.parametrize("typed,amount", [("2.750.000", 2_750_000), ("Rp 2.750.000", 2_750_000),
                                          ("2750000", 2_750_000), ("Rp2.750.000,00", 2_750_000),
                                          (" 2 750 000 ", 2_750_000)])
def test_rupiah_field_reads_what_people_type(typed, amount):
    assert RupiahField(min_value=1, max_value=1_000_000_000).clean(typed) == amount


def test_price_plus_shipping_cannot_pass_the_maximum(client, seller, settings):
    client.force_login(seller)
    response = client.post(reverse("transactions:create"), {**CREATE, "price": "1.000.000.000",
                                                            "shipping_cost": "2.650.000"})
    assert response.status_code == 200 and "shipping_cost" in response.context["form"].errors
    assert not EscrowTransaction.objects.exists()
    from transactions import services

    with pytest.raises(services.TransactionActionError) as refused:
        scenarios.create(seller, price=1_000_000_000, shipping_cost=2_650_000)
    assert refused.value.code == "invalid_shipping"
    with pytest.raises(services.TransactionActionError):
        scenarios.create(seller, price=1_000_000, shipping_cost=BIGINT_MAX)


@pytest.mark.parametrize("label,value", sorted(HOSTILE.items()) + [
    ("reference over 100 characters", None), ("field too long for CSV", None), ("wrong columns", None)])
def test_bank_statement_import_reports_bad_lines_and_imports_nothing(client, label, value):
    from payments.models import BankStatementLine

    finance = StaffFactory(email="keuangan@intrasa.co.id", is_superuser=True)
    client.force_login(finance)
    good = "2026-11-23,CR BUDI,150000,BCA-001"
    bad = {
        "reference over 100 characters": "2026-11-23,CR,150000," + "R" * 101,
        "field too long for CSV": '2026-11-23,"' + "x" * 200_000 + '",150000,BCA-3',
        "wrong columns": "2026-11-23,CR,150000,BCA-3,extra",
    }.get(label, f'2026-11-23,CR,"{value}",BCA-002')
    body = f"date,description,amount,reference\n{good}\n{bad}\n"
    upload = io.BytesIO(body.encode())
    upload.name = "mutasi.csv"
    before = snapshot()
    response = client.post(reverse("admin:payments_statement_import"), {"file": upload})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["file"])
    assert "3" in errors  # the line number of the bad line (the header is line 1)
    assert snapshot() == before and not BankStatementLine.objects.exists()
