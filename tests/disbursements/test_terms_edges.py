"""The SendMe operational terms at their edges (issue 16): parts the day's limit cannot carry,
minimum part amounts, resends across midnight and the night window, retries under the same
Transaction ID, unlisted response codes, and the 1×24 promise as an operated target."""
import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command

from audit.models import AuditEntry
from disbursements import quota, rules, selectors, services, tasks
from disbursements.models import DailyQuota, Disbursement, Payout
from intrasa.wib import WIB, format_wib
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from tests import scenarios
from transactions.models import Status

from .conftest import verified_bank
from .fakes import accepted, answer

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = dt.date(2026, 6, 8)
TUESDAY = dt.date(2026, 6, 9)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), WIB)


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario():
    yield
    call_command("ledger_check")


@pytest.fixture
def daytime(settings):
    settings.SENDME_NIGHT_HOLD_BANK = True
    settings.CELERY_TASK_ALWAYS_EAGER = True


def confirm(seller, buyer, price):
    if not seller.payout_destinations.filter(is_archived=False).exists():
        verified_bank(seller)
    txn = scenarios.create(seller, buyer, price=price, shipping_cost=0, fee_payer="buyer")
    return scenarios.advance(txn, buyer, Status.CONFIRMED)


def limit_change(staff, limit, day):
    services.daily_limit_change(limit=limit, effective_from=day, actor=staff, reason="Surat ke Faspay")


# --- rules at their boundaries ----------------------------------------------------------------

@pytest.mark.parametrize("total,limit,minimum,parts", [
    (50_000_001, 50_000_000, 10_000, [49_990_001, 10_000]),
    (50_009_999, 50_000_000, 10_000, [49_999_999, 10_000]),
    (50_010_000, 50_000_000, 10_000, [50_000_000, 10_000]),  # exactly the minimum: no borrowing
    (100_000_001, 50_000_000, 10_000, [50_000_000, 49_990_001, 10_000]),
    (5_000_001, 5_000_000, 10_000, [4_990_001, 10_000]),
    (9_999, 5_000_000, 10_000, [9_999]),  # below the minimum as a whole: one part, nothing to split
])
@pytest.mark.django_db(transaction=False)
def test_split_never_leaves_a_part_below_the_minimum(total, limit, minimum, parts):
    assert rules.split_amount(total, limit, minimum) == parts
    assert sum(parts) == total and all(p <= limit for p in parts)


@pytest.mark.django_db(transaction=False)
def test_minimums_come_from_settings(settings):
    assert rules.min_part("bank") == 10_000 and rules.min_part("ewallet") == 10_000
    settings.SENDME_MIN_EWALLET_TOPUP = 20_000
    assert rules.min_part("ewallet") == 20_000 and rules.below_minimum(19_999, "ewallet")
    assert not rules.below_minimum(20_000, "ewallet")


@pytest.mark.parametrize("code,listed", [
    ("2001800", True), ("2021800", True), ("2001801", False),
    ("4031814", True), ("4031823", True), ("4031824", False),
    ("4041819", True), ("4041820", False), ("4091801", True), ("4091802", False),
    ("5001802", True), ("5001803", False), ("5041800", True), ("4101800", False),
    ("403181", False), ("40318AB", False), ("", False),
])
@pytest.mark.django_db(transaction=False)
def test_listed_response_codes(code, listed):
    assert rules.is_listed_response(code) is listed


# --- limits -----------------------------------------------------------------------------------

def test_a_payout_is_planned_in_parts_the_day_can_carry(daytime, clock, fake_sendme, seller, buyer, finance_officer):
    clock.set(at(MONDAY, 9))
    limit_change(finance_officer, 20_000_000, MONDAY)
    confirm(seller, buyer, 50_000_000)
    parts = list(Disbursement.objects.order_by("sequence"))
    assert [p.amount for p in parts] == [20_000_000, 20_000_000, 10_000_000]
    assert [p.status for p in parts] == [Disbursement.Status.SUCCEEDED, Disbursement.Status.QUEUED,
                                         Disbursement.Status.QUEUED]
    assert DailyQuota.objects.get(day=MONDAY).used == 20_000_000


def test_a_planned_payout_never_leaves_a_tail_of_one_rupiah(daytime, clock, fake_sendme, seller, buyer):
    clock.set(at(MONDAY, 9))
    confirm(seller, buyer, 50_000_001)
    assert sorted(Disbursement.objects.values_list("amount", flat=True)) == [10_000, 49_990_001]


def test_a_queued_part_above_a_lowered_limit_is_resplit(daytime, clock, fake_sendme, seller, buyer, finance_officer):
    clock.set(at(MONDAY, 9))
    quota.reserve(MONDAY, 1)  # Monday cannot carry a full 50 juta part any more
    txn = confirm(seller, buyer, 50_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.QUEUED and part.waiting_for == Disbursement.Wait.DAILY_LIMIT
    limit_change(finance_officer, 20_000_000, TUESDAY)  # Faspay lowered the Daily Nominal Total

    clock.set(at(TUESDAY, 5, 0))
    tasks.dispatch_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.CANCELLED and part.partner_reference_no not in [
        ref for ref, _amount, _date in fake_sendme.sent]
    new = list(Disbursement.objects.exclude(pk=part.pk).order_by("sequence"))
    assert [p.amount for p in new] == [20_000_000, 20_000_000, 10_000_000]
    assert all(p.amount <= 20_000_000 for p in new)
    assert [p.status for p in new].count(Disbursement.Status.SUCCEEDED) == 1
    assert DailyQuota.objects.get(day=TUESDAY).used == 20_000_000
    assert AuditEntry.objects.filter(action="disbursement.resplit").count() == 1
    # Every payout can finish: two more days at 20 juta carry the rest.
    for day in (dt.date(2026, 6, 10), dt.date(2026, 6, 11)):
        clock.set(at(day, 5, 0))
        tasks.dispatch_due_disbursements()
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED and Payout.objects.get().status == Payout.Status.COMPLETED


def test_a_part_within_the_limit_is_not_resplit(daytime, clock, fake_sendme, seller, buyer, finance_officer):
    clock.set(at(MONDAY, 9))
    quota.reserve(MONDAY, 1)
    confirm(seller, buyer, 20_000_000)
    limit_change(finance_officer, 20_000_000, TUESDAY)  # the part is exactly the new limit
    clock.set(at(TUESDAY, 5, 0))
    tasks.dispatch_due_disbursements()
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.SUCCEEDED and part.amount == 20_000_000


# --- resends ----------------------------------------------------------------------------------

def test_a_resend_after_midnight_is_charged_to_its_own_day_and_waits_for_0500(daytime, clock, fake_sendme,
                                                                                seller, buyer):
    clock.set(at(MONDAY, 21, 50))
    fake_sendme.answers = [answer("4291800", "Too Many Requests")]
    confirm(seller, buyer, 30_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.RETRYING and part.quota_day == MONDAY

    clock.set(at(TUESDAY, 0, 30))  # due for a resend, but bank transfers wait out 22.00–05.00
    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=clock.now)
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.RETRYING and len(fake_sendme.sent) == 1
    assert part.next_attempt_at == at(TUESDAY, 5) and part.waiting_for == Disbursement.Wait.NIGHT

    clock.set(at(TUESDAY, 4, 59))
    assert tasks.resolve_due_disbursements() == 0
    clock.set(at(TUESDAY, 5, 0))
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED and part.quota_day == TUESDAY
    assert [ref for ref, _a, _d in fake_sendme.sent] == [part.partner_reference_no] * 2
    assert len({d for _r, _a, d in fake_sendme.sent}) == 1  # the same request body
    assert DailyQuota.objects.get(day=MONDAY).used == 0
    assert DailyQuota.objects.get(day=TUESDAY).used == 30_000_000


def test_a_resend_the_new_day_cannot_carry_waits_for_the_next(daytime, clock, fake_sendme, seller, buyer):
    clock.set(at(MONDAY, 21, 0))
    fake_sendme.answers = [answer("4291800")]
    confirm(seller, buyer, 30_000_000)
    [part] = Disbursement.objects.all()
    quota.reserve(TUESDAY, 20_000_001)  # Tuesday has 29.999.999 left
    clock.set(at(TUESDAY, 9))
    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=clock.now)
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.RETRYING and len(fake_sendme.sent) == 1
    assert part.next_attempt_at == at(dt.date(2026, 6, 10), 0) and part.waiting_for == Disbursement.Wait.DAILY_LIMIT
    assert part.quota_day == MONDAY and DailyQuota.objects.get(day=MONDAY).used == 30_000_000


# --- retries after a Failed result ------------------------------------------------------------

def test_staff_retry_after_a_failure_keeps_the_transaction_id(daytime, clock, fake_sendme, seller, buyer,
                                                              dispute_officer):
    clock.set(at(MONDAY, 10))
    fake_sendme.answers = [answer("4031814", "Insufficient Funds")]
    txn = confirm(seller, buyer, 2_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.FAILED and DailyQuota.objects.get(day=MONDAY).used == 0
    first_ref = part.partner_reference_no

    clock.set(at(MONDAY, 11))  # finance topped up the deposit
    [again] = services.disbursement_retry(disbursement=part, actor=dispute_officer)
    assert again.pk == part.pk
    assert Disbursement.objects.count() == 1  # no new part, no new reference
    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED and part.partner_reference_no == first_ref
    assert [ref for ref, _a, _d in fake_sendme.sent] == [first_ref, first_ref]
    assert len({d for _r, _a, d in fake_sendme.sent}) == 1
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
    assert AuditEntry.objects.filter(action="disbursement.retry", actor=dispute_officer).exists()


def test_a_rejected_account_is_retried_only_with_a_new_reference_and_a_second_person(
        daytime, clock, fake_sendme, seller, buyer, dispute_officer, finance_officer):
    clock.set(at(MONDAY, 10))
    fake_sendme.answers = [answer("4041811", "Invalid Account")]
    confirm(seller, buyer, 2_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.FAILED
    with pytest.raises(services.DisbursementError) as same:  # the bank rejected this account
        services.disbursement_retry(disbursement=part, actor=dispute_officer)
    assert same.value.code == "destination"
    other = verified_bank(seller, number="7005556667", default=False)
    with pytest.raises(services.DisbursementError) as no_reason:
        services.disbursement_retry_request(disbursement=part, actor=dispute_officer, destination=other, reason=" ")
    assert no_reason.value.code == "reason_required"
    approval = services.disbursement_retry_request(disbursement=part, actor=dispute_officer, destination=other,
                                                   reason="Nomor rekening salah ketik")
    with pytest.raises(services.DisbursementError):
        services.disbursement_retry_request(disbursement=part, actor=finance_officer, destination=other,
                                            reason="dua kali")
    with pytest.raises(services.DisbursementError) as alone:
        services.disbursement_retry_approve(approval=approval, actor=dispute_officer)
    assert alone.value.code == "same_person" and Disbursement.objects.count() == 1
    [new] = services.disbursement_retry_approve(approval=approval, actor=finance_officer)
    new.refresh_from_db()
    assert new.partner_reference_no != part.partner_reference_no and new.retry_of_id == part.pk
    assert new.status == Disbursement.Status.SUCCEEDED and new.account_number == "7005556667"
    entry = AuditEntry.objects.get(action="disbursement.retry_approve")
    assert entry.actor == finance_officer and entry.reason == "Nomor rekening salah ketik"


# --- unlisted response codes ------------------------------------------------------------------

def test_an_unlisted_response_code_holds_the_money_and_alerts(daytime, clock, fake_sendme, seller, buyer,
                                                              finance_officer, dispute_officer):
    clock.set(at(MONDAY, 10))
    fake_sendme.answers = [answer("4031899", "Something new")]
    txn = confirm(seller, buyer, 2_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.HELD and part.last_response_code == "4031899"
    assert "unlisted response 4031899" in part.failure_reason
    assert part.payout.status == Payout.Status.NEEDS_ACTION
    assert DailyQuota.objects.get(day=MONDAY).used == 2_000_000  # it may have gone: the quota stays
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == txn.seller_receives
    [alert] = [m for m in mail.outbox if "4031899" in m.subject]
    assert finance_officer.email in alert.to and "contact Faspay" in alert.subject
    # Nothing resends, asks or fails it meanwhile (a callback hint included).
    clock.set(at(MONDAY, 12))
    tasks.resolve_due_disbursements()
    tasks.dispatch_due_disbursements()
    services.callback_receive(partner_reference_no=part.partner_reference_no)
    assert len(fake_sendme.sent) == 1 and fake_sendme.inquiries == []
    part.refresh_from_db()
    assert part.status == Disbursement.Status.HELD
    with pytest.raises(services.DisbursementError):
        services.disbursement_retry(disbursement=part, actor=dispute_officer)
    # Faspay clarified: a status inquiry under the same reference decides.
    services.disbursement_release_hold(disbursement=part, actor=dispute_officer, reason="Faspay: berhasil")
    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED and fake_sendme.inquiries == [part.partner_reference_no]
    assert len(fake_sendme.sent) == 1


def test_a_listed_failure_code_is_a_failure_not_a_hold(daytime, clock, fake_sendme, seller, buyer):
    clock.set(at(MONDAY, 10))
    fake_sendme.answers = [answer("4031823", "Account Limit Exceed")]
    confirm(seller, buyer, 2_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.FAILED


def test_an_unlisted_transaction_status_is_held(daytime, clock, fake_sendme, seller, buyer):
    clock.set(at(MONDAY, 10))
    fake_sendme.answers = [accepted("x", status="09")]
    confirm(seller, buyer, 2_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.HELD and part.last_response_code == "2001800/09"


# --- the 1×24 promise as an operated target ---------------------------------------------------

def test_a_day_whose_demand_exceeds_the_limit(daytime, clock, fake_sendme, seller, buyer, finance_officer, client):
    from tests.factories import UserFactory

    sellers = [seller, UserFactory(full_name="Budi Penjual"), UserFactory(full_name="Citra Penjual")]
    # Confirmed at night: the bank transfers wait for 05.00 on Tuesday.
    txns = []
    for minute, (who, price) in enumerate(zip(sellers, (30_000_000, 25_000_000, 20_000_000), strict=True)):
        clock.set(at(MONDAY, 22, 10 * minute))
        txns.append(confirm(who, buyer, price))
    a, b, c = (Payout.objects.get(escrow_transaction=t) for t in txns)
    assert all(p.parts.get().status == Disbursement.Status.QUEUED for p in (a, b, c))
    # C's promise is the oldest (say its buyer confirmed earlier and it waited for an account).
    Payout.objects.filter(pk=c.pk).update(due_at=at(MONDAY, 20))
    c.refresh_from_db()

    clock.set(at(TUESDAY, 5, 0))
    forecast = selectors.promise_forecast()
    assert forecast.demand == 75_000_000 and forecast.carried == 50_000_000 and forecast.shortfall == 25_000_000
    assert [o.payout_id for o in forecast.not_carried] == [b.pk]
    assert forecast.outlooks[c.pk].expected_at == at(TUESDAY, 5)
    assert forecast.outlooks[a.pk].expected_at == at(TUESDAY, 5)
    assert forecast.outlooks[b.pk].expected_at == at(dt.date(2026, 6, 10), 5)
    assert forecast.outlooks[b.pk].reason == "daily_limit"
    assert {o.payout_id for o in forecast.late} == {b.pk, c.pk}

    clock.set(at(TUESDAY, 6, 30))
    mail.outbox.clear()
    assert tasks.forecast_payout_promises() == 2
    [alert] = mail.outbox
    assert finance_officer.email in alert.to
    assert "Rp 25.000.000" in alert.body and txns[1].reference in alert.body
    assert alert.body.index(txns[2].reference) > alert.body.index("after their 1×24 promise")

    # The seller whose payout waits sees the honest expected time.
    sellers[1].preferred_language = "en"
    sellers[1].save()
    client.force_login(sellers[1])
    page = client.get(txns[1].get_absolute_url()).content.decode()
    from django.utils import translation
    with translation.override("en"):
        expected = format_wib(at(dt.date(2026, 6, 10), 5))
    assert 'data-testid="payout-expected"' in page and expected in page
    assert "daily transfer limit is full" in page

    # Finance sees the same forecast and alert on the treasury page.
    client.force_login(finance_officer)
    page = client.get("/admin/treasury/").content.decode()
    assert 'data-testid="promise-alert"' in page and page.count('data-testid="promise-row"') == 2
    section = page[page.index('data-testid="promise"'):page.index('data-testid="penalty"')]
    assert txns[1].reference in section and txns[2].reference in section and txns[0].reference not in section

    # The dispatcher works the queue in the forecast's order: oldest promise first.
    tasks.dispatch_due_disbursements()
    sent = [ref for ref, _a, _d in fake_sendme.sent]
    assert sent == [c.parts.get().partner_reference_no, a.parts.get().partner_reference_no]
    assert b.parts.get().waiting_for == Disbursement.Wait.DAILY_LIMIT
    # After the dispatch the forecast still says the same about today.
    after = selectors.promise_forecast()
    assert after.shortfall == 25_000_000 and [o.payout_id for o in after.not_carried] == [b.pk]

    # Faspay agrees to 75 juta from today: B goes today, not tomorrow.
    clock.set(at(TUESDAY, 10, 0))
    limit_change(finance_officer, 75_000_000, TUESDAY)
    tasks.dispatch_due_disbursements()
    assert b.parts.get().status == Disbursement.Status.SUCCEEDED
    assert DailyQuota.objects.get(day=TUESDAY).used == 75_000_000
    assert selectors.promise_forecast().shortfall == 0


def test_no_alert_when_the_day_carries_everything(daytime, clock, fake_sendme, seller, buyer):
    clock.set(at(MONDAY, 22))
    confirm(seller, buyer, 50_000_000)  # exactly the Daily Nominal Total
    clock.set(at(TUESDAY, 6, 30))
    mail.outbox.clear()
    assert tasks.forecast_payout_promises() == 0 and not mail.outbox
    forecast = selectors.promise_forecast()
    assert forecast.demand == forecast.carried == 50_000_000 and not forecast.not_carried


def test_refund_payouts_carry_their_own_deadline(daytime, clock, fake_sendme, seller, buyer):
    clock.set(at(MONDAY, 10))
    txn = scenarios.create(seller, buyer, price=1_000_000, shipping_cost=0, fee_payer="buyer")
    due = at(dt.date(2026, 6, 15), 10)
    payout = services.payout_plan(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                                  amount=1_000, due_at=due)
    assert payout.due_at == due and payout.status == Payout.Status.AWAITING_DESTINATION


# --- the staff screens ------------------------------------------------------------------------

def test_staff_decide_failed_and_held_parts_in_the_admin(daytime, clock, fake_sendme, seller, buyer, client,
                                                         admin_user, finance_officer):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    from disbursements.models import RetryApproval

    finance_officer.user_permissions.add(*Permission.objects.filter(
        codename__in=["change_disbursement", "view_disbursement", "view_retryapproval"]))
    clock.set(at(MONDAY, 10))
    fake_sendme.answers = [answer("4031814"), answer("4031814")]
    confirm(seller, buyer, 2_000_000)
    [part] = Disbursement.objects.all()
    client.force_login(admin_user)
    url = reverse("admin:disbursements_disbursement_next_step", args=[part.pk])
    assert client.get(reverse("admin:disbursements_disbursement_changelist")).content.decode().count(url) == 1
    # Same account, same reference.
    assert client.post(url, {"step": "retry_same"}).status_code == 302
    part.refresh_from_db()
    assert part.status == Disbursement.Status.FAILED and len(fake_sendme.sent) == 2  # failed again
    assert {ref for ref, _a, _d in fake_sendme.sent} == {part.partner_reference_no}
    # Another account: needs a reason, then a second person.
    other = verified_bank(seller, number="7001112223", default=False)
    response = client.post(url, {"step": "request_new", "destination": other.pk, "reason": ""})
    assert response.status_code == 200 and not RetryApproval.objects.exists()
    client.post(url, {"step": "request_new", "destination": other.pk, "reason": "Rekening pengganti dari penjual"})
    approval = RetryApproval.objects.get()
    changelist = reverse("admin:disbursements_retryapproval_changelist")
    client.post(changelist, {"action": "approve", "_selected_action": [approval.pk]})
    approval.refresh_from_db()
    assert approval.status == RetryApproval.Status.REQUESTED  # the requester cannot approve
    client.force_login(finance_officer)
    client.post(changelist, {"action": "approve", "_selected_action": [approval.pk]})
    approval.refresh_from_db()
    assert approval.status == RetryApproval.Status.APPROVED and approval.decided_by == finance_officer
    new = Disbursement.objects.get(retry_of=part)
    assert new.status == Disbursement.Status.SUCCEEDED and new.account_number == "7001112223"


def test_the_forecast_costs_the_same_queries_for_one_payout_or_many(daytime, clock, fake_sendme, seller, buyer,
                                                                    django_assert_num_queries):
    from tests.factories import UserFactory

    clock.set(at(MONDAY, 22, 0))
    confirm(seller, buyer, 30_000_000)
    with django_assert_num_queries(4) as one:
        selectors.payout_schedule()
    fake_sendme.answers = [answer("4031814")]
    clock.set(at(TUESDAY, 9, 0))
    tasks.dispatch_due_disbursements()  # a failed part too
    for i in range(5):
        clock.set(at(TUESDAY, 9, i + 1))
        confirm(UserFactory(full_name=f"Penjual {i}"), buyer, 20_000_000)
    clock.set(at(TUESDAY, 10, 0))
    with django_assert_num_queries(len(one.captured_queries)):
        outlooks, _plan = selectors.payout_schedule()
    assert len(outlooks) == Payout.objects.filter(status__in=selectors.OPEN_PAYOUT).count() >= 4
