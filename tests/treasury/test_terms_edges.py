"""Treasury rules of the SendMe terms at their boundaries (issue 16): overseas withdrawals only for a
declared overseas entity, the 12.00 WIB cut-off counted from when the instruction is given, the
deposit covering amount + fee + VAT + everything owed, the penalty's join date and periods, and
Faspay's invoice reconciled against INTRASA's own figures."""
import datetime as dt

import pytest
from django.urls import reverse

from disbursements.models import Disbursement
from intrasa.wib import WIB
from ledger.models import AccountCategory
from treasury import rules, services
from treasury.models import ReconciliationItem, WithdrawalInstruction
from treasury.selectors import penalty_for_period, penalty_forecast
from workdays.calendar import working_calendar

pytestmark = pytest.mark.django_db


def wib(*args):
    return dt.datetime(*args, tzinfo=WIB)


def domestic(actor, amount=1_000_000, **kwargs):
    return services.withdrawal_instruction_create(
        kind="domestic", amount=amount, bank_name="BCA", account_number="8830123456", account_holder="PT INTRASA",
        reason="Penarikan rutin", actor=actor, **kwargs)


def overseas(actor, instructed_at, **kwargs):
    return services.withdrawal_instruction_create(
        kind="overseas", amount=1_000_000, bank_name="DBS", account_number="123", account_holder="INTRASA PTE",
        swift_code="DBSSSGSG", country="Singapore", currency="SGD", reason="Uji", actor=actor,
        instructed_at=instructed_at, **kwargs)


# --- terms B only for a declared overseas entity ----------------------------------------------

def test_overseas_is_not_offered_to_a_domestic_partner(finance, client, deposit):
    with pytest.raises(services.TreasuryError) as refused:
        services.withdrawal_quote(kind="overseas", amount=1_000_000, instructed_at=wib(2026, 8, 12, 9, 0))
    assert refused.value.code == "overseas_not_applicable"
    with pytest.raises(services.TreasuryError):
        overseas(finance, wib(2026, 8, 12, 9, 0), available=10_000_000)
    client.force_login(finance)
    page = client.get(reverse("admin:treasury_withdrawalinstruction_add")).content.decode()
    assert 'value="overseas"' not in page and 'value="domestic"' in page


def test_a_declared_overseas_entity_gets_the_expected_arrival(settings, finance):
    settings.TREASURY_OVERSEAS_ENTITY = True
    # Wednesday 12 August 2026, 09.00: processed that day; 5 Business Days later, skipping the
    # weekend and the 17 August holiday → Thursday 20 August.
    quote = services.withdrawal_quote(kind="overseas", amount=1_000_000, instructed_at=wib(2026, 8, 12, 9, 0))
    assert quote.processing_date == dt.date(2026, 8, 12) and quote.arrive_by == dt.date(2026, 8, 20)
    instruction = overseas(finance, wib(2026, 8, 12, 9, 0), available=10_000_000)
    assert instruction.arrive_by == dt.date(2026, 8, 20)
    assert rules.overseas_arrive_by(dt.date(2026, 8, 13), working_calendar()) == dt.date(2026, 8, 21)


# --- 12.00 cut-off counted from when the instruction is given ---------------------------------

@pytest.mark.parametrize("given, processing, arrive_by", [
    ((12, 0), dt.date(2026, 8, 12), dt.date(2026, 8, 20)),
    ((12, 1), dt.date(2026, 8, 13), dt.date(2026, 8, 21)),
])
def test_cutoff_is_recomputed_when_marked_given(settings, finance, given, processing, arrive_by):
    settings.TREASURY_OVERSEAS_ENTITY = True
    instruction = overseas(finance, wib(2026, 8, 12, 11, 50), available=10_000_000)
    assert instruction.processing_date == dt.date(2026, 8, 12)
    services.withdrawal_instruction_mark_given(instruction=instruction, actor=finance, exchange_rate="1 SGD = 12.100",
                                               available=10_000_000, given_at=wib(2026, 8, 12, *given))
    instruction.refresh_from_db()
    assert instruction.processing_date == processing and instruction.arrive_by == arrive_by
    assert instruction.rate_time == dt.datetime.combine(processing, dt.time(10, 0), WIB)


def test_a_domestic_instruction_takes_the_day_it_is_given(finance):
    instruction = domestic(finance, instructed_at=wib(2026, 8, 12, 23, 50), available=10_000_000)
    services.withdrawal_instruction_mark_given(instruction=instruction, actor=finance, available=10_000_000,
                                               given_at=wib(2026, 8, 13, 0, 10))
    instruction.refresh_from_db()
    assert instruction.processing_date == dt.date(2026, 8, 13)


# --- the deposit covers amount + fee + VAT + what is owed -------------------------------------

def test_the_deposit_must_cover_the_withdrawal_and_the_payables(finance, seller, buyer):
    from tests import scenarios
    from transactions.models import Status

    txn = scenarios.advance(scenarios.create(seller, buyer, price=3_000_000, shipping_cost=0, fee_payer="buyer"),
                            buyer, Status.SHIPPED)
    from escrow import services as escrow_services
    from ledger.selectors import category_balance

    # The release makes 3.000.000 payable to the seller; no SendMe is reachable, so it stays owed.
    escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer)
    owed = category_balance(category=AccountCategory.SELLER_PAYABLE)
    assert owed == 3_000_000
    needed = 1_000_000 + 5_000 + 550
    with pytest.raises(services.TreasuryError) as short:
        domestic(finance, available=owed + needed - 1)
    assert short.value.code == "deposit_short"
    message = short.value.message
    assert "Rp 3.000.000" in message and "Rp 1.005.550" in message and "Rp 1" in message
    assert not WithdrawalInstruction.objects.exists()
    first = domestic(finance, available=owed + needed)  # exactly enough
    # A second one must also leave room for the first, still prepared.
    with pytest.raises(services.TreasuryError):
        domestic(finance, available=owed + needed)
    # When it is given, the deposit is checked again.
    with pytest.raises(services.TreasuryError):
        services.withdrawal_instruction_mark_given(instruction=first, actor=finance, available=owed + needed - 1)
    services.withdrawal_instruction_mark_given(instruction=first, actor=finance, available=owed + needed)
    first.refresh_from_db()
    assert first.status == WithdrawalInstruction.Status.GIVEN


def test_an_unknown_balance_prepares_nothing(finance, monkeypatch):
    from treasury.selectors import DepositBalance

    monkeypatch.setattr("treasury.selectors.sendme_balance", lambda client=None: DepositBalance(error="timeout"))
    with pytest.raises(services.TreasuryError) as unknown:
        domestic(finance)
    assert unknown.value.code == "balance_unknown" and not WithdrawalInstruction.objects.exists()


# --- terms C: join date and periods -----------------------------------------------------------

@pytest.mark.parametrize("joined, applies", [("2025-03-31", False), ("2025-04-01", True)])
def test_the_penalty_applies_from_merchants_joined_on_1_april_2025(settings, joined, applies):
    settings.TREASURY_MONTHLY_TRANSACTION_TARGET = 1_000
    settings.TREASURY_GO_LIVE_MONTH = "2026-01"
    settings.TREASURY_MERCHANT_JOINED_ON = joined
    forecast = penalty_forecast(now=wib(2026, 3, 10, 9, 0))
    assert (forecast.not_applicable == "") is applies
    assert forecast.total_projected == (3_000_000 if applies else 0)
    if not applies:
        assert forecast.not_applicable == "joined_before" and forecast.months == []


def test_periods_count_from_the_month_after_going_live(settings):
    settings.TREASURY_MONTHLY_TRANSACTION_TARGET = 1_000
    settings.TREASURY_MERCHANT_JOINED_ON = "2025-12-01"
    settings.TREASURY_GO_LIVE_MONTH = "2026-01"  # the terms' simulation: live in January
    assert services.penalty_first_month() == dt.date(2026, 2, 1)
    first = penalty_forecast(now=wib(2026, 4, 30, 23, 0))
    assert (first.start, first.end, first.invoice_on) == (dt.date(2026, 2, 1), dt.date(2026, 4, 1),
                                                          dt.date(2026, 5, 1))
    second = penalty_forecast(now=wib(2026, 5, 1, 0, 0))
    assert (second.start, second.invoice_on) == (dt.date(2026, 5, 1), dt.date(2026, 8, 1))
    in_january = penalty_forecast(now=wib(2026, 1, 20, 9, 0))  # the live month itself is not counted
    assert in_january.start == dt.date(2026, 2, 1)


def test_without_a_go_live_month_no_period_is_invented(settings, finance, client):
    settings.TREASURY_MONTHLY_TRANSACTION_TARGET = 1_000
    settings.TREASURY_MERCHANT_JOINED_ON = "2025-12-01"
    forecast = penalty_forecast(now=wib(2026, 5, 1, 0, 0))
    assert forecast.not_applicable == "go_live_unknown" and forecast.start is None


# --- Faspay's invoice reconciled --------------------------------------------------------------

def succeeded_transfers(seller, buyer, completed):
    from tests import scenarios

    txn = scenarios.create(seller, buyer)
    from disbursements.models import Payout

    payout = Payout.objects.create(escrow_transaction=txn, purpose="seller_payout", recipient=seller, amount=1)
    for i, at in enumerate(completed):
        Disbursement.objects.create(payout=payout, sequence=i + 1, kind="bank", amount=1, status="succeeded",
                                    partner_reference_no=f"INV-{i}", description="x", completed_at=at)


def test_an_invoice_that_matches_leaves_no_item(settings, finance, seller, buyer):
    settings.TREASURY_MONTHLY_TRANSACTION_TARGET = 0
    succeeded_transfers(seller, buyer, [wib(2026, 5, 1, 0, 0), wib(2026, 5, 31, 23, 59), wib(2026, 6, 1, 0, 0)])
    invoice, items = services.faspay_invoice_record(month=dt.date(2026, 5, 17), transactions=2, penalty=0,
                                                    invoice_number="FP/2026/05/001", actor=finance)
    assert invoice.month == dt.date(2026, 5, 1) and items == []


def test_invoice_differences_become_reconciliation_items(settings, finance, seller, buyer):
    settings.TREASURY_MONTHLY_TRANSACTION_TARGET = 1_000
    settings.TREASURY_MERCHANT_JOINED_ON = "2025-12-01"
    settings.TREASURY_GO_LIVE_MONTH = "2026-01"
    succeeded_transfers(seller, buyer, [wib(2026, 4, 10, 9, 0)])
    expected = penalty_for_period(dt.date(2026, 2, 1), dt.date(2026, 4, 1))
    assert expected == 3_000_000  # three months short of the target: the minimum each month
    invoice, items = services.faspay_invoice_record(
        month=dt.date(2026, 4, 1), transactions=2, penalty=3_500_000, invoice_number="FP/2026/05/PEN",
        actor=finance, penalty_period_start=dt.date(2026, 2, 1), penalty_period_end=dt.date(2026, 4, 1))
    codes = {item.code: item for item in items}
    assert set(codes) == {"invoice_transactions", "invoice_penalty"}
    assert codes["invoice_penalty"].amount == 500_000
    assert codes["invoice_transactions"].local_status == "1" and codes["invoice_transactions"].provider_status == "2"
    assert all(i.source == ReconciliationItem.Source.FASPAY_INVOICE and i.state == "open" for i in items)
    with pytest.raises(services.TreasuryError):
        services.faspay_invoice_record(month=dt.date(2026, 4, 1), transactions=1, penalty=0,
                                       invoice_number="FP/2026/05/PEN", actor=finance)


def test_the_invoice_form_in_the_admin(client, finance):
    from django.contrib.auth.models import Permission

    finance.user_permissions.add(*Permission.objects.filter(codename__in=["add_faspayinvoice", "view_faspayinvoice"]))
    client.force_login(finance)
    url = reverse("admin:treasury_faspayinvoice_add")
    response = client.post(url, {"invoice_number": "FP-1", "month": "2026-05-01", "transactions": "-1"})
    assert response.status_code == 200 and not services.FaspayInvoice.objects.exists()
    response = client.post(url, {"invoice_number": "FP-1", "month": "2026-05-01", "transactions": "4"})
    assert response.status_code == 302
    assert ReconciliationItem.objects.get().code == "invoice_transactions"
