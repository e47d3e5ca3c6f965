"""The treasury page, withdrawal instructions (with the preview step) and the daily limit form."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from disbursements.models import DailyLimitChange, DailyQuota, Disbursement
from intrasa.wib import WIB, now_wib
from treasury.chart import volume_chart
from treasury.models import WithdrawalInstruction
from treasury.selectors import DayVolume, penalty_forecast

pytestmark = pytest.mark.django_db


def test_treasury_page_shows_a_clear_error_when_sendme_is_unreachable(client, finance, settings):
    settings.SENDME_BASE_URL = "http://127.0.0.1:9/unreachable"
    client.force_login(finance)
    page = client.get(reverse("treasury:dashboard")).content.decode()
    balance = page.split('data-testid="balance"')[1].split("</section>")[0]
    assert 'role="alert"' in balance and "SendMe" in balance


def test_treasury_page_shows_quota_queue_and_chart(client, finance, settings):
    settings.SENDME_BASE_URL = "http://127.0.0.1:9/unreachable"
    today = now_wib().date()
    DailyQuota.objects.create(day=today, limit=50_000_000, used=30_000_000)
    DailyQuota.objects.create(day=today - dt.timedelta(days=3), limit=50_000_000, used=49_000_000)
    client.force_login(finance)
    page = client.get(reverse("treasury:dashboard")).content.decode()
    quota = page.split('data-testid="quota"')[1].split("</section>")[0]
    assert "Rp\xa030.000.000" in quota and "Rp\xa020.000.000" in quota
    volume = page.split('data-testid="volume"')[1].split("</section>")[0]
    assert volume.count("<rect") >= 30 and "<script" not in page.split('data-testid="volume"')[1]
    assert f'data-day="{today.isoformat()}" data-used="30000000"' in volume


def test_chart_is_plain_svg_with_escaped_labels():
    days = [DayVolume(dt.date(2026, 1, 1) + dt.timedelta(days=i), used=i * 1_000_000, limit=50_000_000)
            for i in range(30)]
    svg = str(volume_chart(days))
    assert svg.startswith("<svg") and svg.endswith("</svg>") and svg.count('class="limit-line"') == 1
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_withdrawal_preview_then_record(client, finance, deposit):
    client.force_login(finance)
    url = reverse("admin:treasury_withdrawalinstruction_add")
    data = {"kind": "domestic", "amount": "50.000.000", "bank_name": "BCA", "account_number": "8830123456",
            "account_holder": "PT INTRASA ESCROW INDONESIA", "reason": "Pindah saldo lebih ke rekening operasional"}
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.status_code == 200 and not WithdrawalInstruction.objects.exists()
    page = preview.content.decode()
    assert 'data-testid="fee">Rp\xa05.000' in page and 'data-testid="vat">Rp\xa0550' in page
    assert 'data-testid="balance-needed"><strong>Rp\xa050.005.550' in page and 'name="_confirm"' in page
    response = client.post(url, {**data, "_confirm": "1"})
    assert response.status_code == 302
    instruction = WithdrawalInstruction.objects.get()
    assert (instruction.fee, instruction.vat, instruction.balance_needed) == (5_000, 550, 50_005_550)
    assert AuditEntry.objects.filter(action="treasury.withdrawal_create", actor=finance).count() == 1


def test_withdrawal_over_the_domestic_maximum_is_refused(client, finance):
    client.force_login(finance)
    response = client.post(reverse("admin:treasury_withdrawalinstruction_add"), {
        "kind": "domestic", "amount": "50.000.001", "bank_name": "BCA", "account_number": "1",
        "account_holder": "PT", "reason": "terlalu besar", "_confirm": "1"})
    assert response.status_code == 200 and response.context["form"].errors["amount"]
    assert not WithdrawalInstruction.objects.exists()


def test_overseas_preview_shows_processing_day_and_rate_time(client, finance, monkeypatch, settings):
    settings.TREASURY_OVERSEAS_ENTITY = True
    # Friday 14 August 2026, 15.00 WIB: Monday 17 August is a holiday → Tuesday 18 August.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 8, 14, 15, 0, tzinfo=WIB))
    client.force_login(finance)
    response = client.post(reverse("admin:treasury_withdrawalinstruction_add"), {
        "kind": "overseas", "amount": "1.000.000", "bank_name": "DBS", "account_number": "123",
        "account_holder": "INTRASA PTE", "swift_code": "DBSSSGSG", "country": "Singapore", "currency": "SGD",
        "reason": "Uji penarikan", "_preview": "1"})
    page = response.content.decode()
    assert 'data-testid="processing-date">' in page and "18-08-2026" in page
    assert 'data-testid="balance-needed"><strong>Rp\xa01.400.000' in page
    assert response.context["quote"].rate_time == dt.datetime(2026, 8, 18, 10, 0, tzinfo=WIB)


def test_marking_an_instruction_given_is_audited(client, finance, deposit):
    from treasury import services

    instruction = services.withdrawal_instruction_create(
        kind="domestic", amount=1_000_000, bank_name="BCA", account_number="1", account_holder="PT",
        reason="Uji", actor=finance)
    client.force_login(finance)
    url = reverse("admin:treasury_withdrawal_decide", args=[instruction.pk])
    assert client.post(url, {"decision": "cancel", "reason": ""}).status_code == 200  # a reason is needed
    client.post(url, {"decision": "given", "reason": "Dikirim lewat dashboard Faspay"})
    instruction.refresh_from_db()
    assert instruction.status == "given" and instruction.given_at is not None
    assert AuditEntry.objects.filter(action="treasury.withdrawal_given").exists()
    # The books: Rp 1.000.000 reaches INTRASA's account, Rp 5.000 + 11% VAT is an expense.
    from ledger.models import AccountCategory
    from ledger.selectors import category_balance

    assert category_balance(category=AccountCategory.OPERATING_BANK) == 1_000_000
    assert category_balance(category=AccountCategory.WITHDRAWAL_FEES) == 5_550
    assert category_balance(category=AccountCategory.SENDME_DEPOSIT) == -1_005_550


def test_daily_limit_change_form_needs_a_reason_and_goes_through_the_service(client, finance):
    client.force_login(finance)
    url = reverse("admin:disbursements_dailylimitchange_add")
    today = now_wib().date()
    response = client.post(url, {"effective_from": today.isoformat(), "limit": "75.000.000", "reason": ""})
    assert response.status_code == 200 and not DailyLimitChange.objects.exists()
    response = client.post(url, {"effective_from": (today - dt.timedelta(days=1)).isoformat(),
                                 "limit": "75.000.000", "reason": "Surat Faspay no. 12/2026"})
    assert response.status_code == 200 and not DailyLimitChange.objects.exists()
    response = client.post(url, {"effective_from": today.isoformat(), "limit": "75.000.000",
                                 "reason": "Surat persetujuan Faspay no. 12/2026"})
    assert response.status_code == 302
    change = DailyLimitChange.objects.get()
    assert change.limit == 75_000_000 and change.changed_by == finance
    assert AuditEntry.objects.filter(action="sendme.daily_limit_change", actor=finance).count() == 1


def test_penalty_forecast_counts_succeeded_sendme_transfers(settings, seller, buyer):
    from tests import scenarios
    from transactions.models import Status

    settings.TREASURY_MONTHLY_TRANSACTION_TARGET = 1_000
    settings.TREASURY_MERCHANT_JOINED_ON = "2026-02-10"
    settings.TREASURY_GO_LIVE_MONTH = "2026-03"  # live in March: periods April–June, July–September…
    now = dt.datetime(2026, 5, 16, 0, 0, tzinfo=WIB)  # half of May gone; period April–June
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    payout = txn.payouts.get()
    for i, (status, completed) in enumerate([("succeeded", dt.datetime(2026, 4, 10, tzinfo=WIB)),
                                             ("succeeded", dt.datetime(2026, 5, 2, tzinfo=WIB)),
                                             ("succeeded", dt.datetime(2026, 5, 3, tzinfo=WIB)),
                                             ("failed", dt.datetime(2026, 5, 3, tzinfo=WIB))]):
        Disbursement.objects.create(payout=payout, sequence=i + 1, kind="bank", amount=1, status=status,
                                    partner_reference_no=f"P-{i}", description="x", completed_at=completed)
    forecast = penalty_forecast(now=now)
    assert (forecast.start, forecast.invoice_on) == (dt.date(2026, 4, 1), dt.date(2026, 7, 1))
    april, may, june = forecast.months
    assert (april.achieved, april.state, april.penalty_now) == (1, "closed", 1_000_000)
    assert (may.achieved, may.projected, may.state) == (2, 4, "running")
    assert june.state == "future" and forecast.total_projected == 3_000_000
