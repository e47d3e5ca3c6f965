"""The whole money system under random actions and provider faults (issue 14).

Hypothesis drives several escrow transactions at once through everything that moves money —
create, pay at the Faspay sandbox over real HTTP (every kind of channel; exact, short, excess and
double payments; lost notifications found by the poller; bank transfers from the statement),
ship, confirm, auto-confirm, disputes with offers and staff decisions (refund, release, split),
cancellations, refund approvals, SendMe payouts to accounts that succeed, stay pending, fail or
are reversed, with faults injected on SendMe calls and callbacks, workers that die after
reserving a part, and people retrying failed parts.

After every step:
* every ledger invariant and registered cross-check (``ledger_breaches``: balanced entries,
  escrow hold = money held, paid = out + owed, no negative account, collected = booked,
  ``disputed`` ⇔ one open dispute, owed money has an owner…);
* no SendMe part is executed twice by the provider, and what INTRASA calls paid the provider
  paid (and what it calls failed the provider did not pay);
* no WIB day's quota exceeds its Daily Nominal Total;
* every state machine agrees with the ledger: a ``disbursed`` transaction owes its seller nothing
  and has a completed seller payout; a completed payout's parts all succeeded.

At the end of each example the workers catch up (polls, inquiries, resends, settlements) and, per
transaction, what the sandbox collected equals what the ledger booked in, and what the sandbox
paid out equals what the ledger says was paid out, to the Rupiah.

``make test`` runs a few examples, the same ones every time; ``make test-property`` runs many random
ones (INTRASA_PROPERTY_EXAMPLES, INTRASA_PROPERTY_STEPS, INTRASA_PROPERTY_RANDOM=1), and
INTRASA_PROPERTY_REPORT=1 prints what each example's world came to (to see that it explores).
"""
import datetime as dt
import functools
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import PayoutDestination
from disbursements import quota
from disbursements import services as disbursement_services
from disbursements import tasks as disbursement_tasks
from disbursements.models import DailyQuota, Disbursement, Payout
from disputes import services as dispute_services
from disputes.models import Dispute
from escrow import services as escrow_services
from escrow import tasks as escrow_tasks
from faspay import keys
from intrasa.errors import ServiceError
from ledger.checks import ledger_breaches
from ledger.models import AccountCategory, EntryKind, Posting
from ledger.selectors import transaction_balances
from payments import services as payment_services
from payments.models import Bill
from refunds import services as refund_services
from refunds.models import RefundRequest
from sandbox import models as sandbox_models
from tests import scenarios
from tests.factories import BankDestinationFactory, StaffFactory, UserFactory
from tests.sandbox_control import SandboxControl
from transactions import services
from transactions.models import EscrowTransaction, Status

pytestmark = [pytest.mark.django_db(transaction=True)]

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = int(os.environ.get("INTRASA_PROPERTY_EXAMPLES", "3"))
STEPS = int(os.environ.get("INTRASA_PROPERTY_STEPS", "30"))

# Debit channels the sandbox collects on (virtual accounts, convenience stores, QRIS, e-wallets).
CHANNELS = ["402", "702", "800", "801", "802", "706", "711"]
# The sellers' accounts, one per way a SendMe transfer can end (sandbox/catalogue.py).
SELLER_ACCOUNTS = {"succeeds": "7001234567", "stays_pending": "3030303030", "fails": "6060606060",
                   "is_reversed": "4444444444"}
# Small enough that a few payouts fill a day: parts then wait for the next WIB day.
DAILY_LIMIT = 40_000_000
PRICES = st.integers(min_value=10_000, max_value=30_000_000)
PICK = st.integers(0, 1_000)
SENDME_FAULTS = [
    {"kind": "timeout", "scope": "sendme.transfer-interbank", "seconds": 1, "after_processing": True},
    {"kind": "http_500", "scope": "sendme.transfer-interbank"},
    {"kind": "http_429", "scope": "sendme.transfer-interbank"},
    {"kind": "http_504", "scope": "sendme.transfer/status"},
    {"kind": "callback_drop", "scope": "callback.sendme"},
    {"kind": "callback_duplicate", "scope": "callback.sendme"},
]


def verified_bank(owner, number, *, default):
    return BankDestinationFactory(owner=owner, account_number=number, bank_code="014", is_default=default,
                                  account_holder_name=owner.full_name,
                                  verification=PayoutDestination.Verification.VERIFIED)


class MoneySystem(RuleBasedStateMachine):
    control: SandboxControl  # set by the test: the sandbox on the live server
    live_url: str

    def __init__(self):
        super().__init__()
        # One world for every example of the test (the database is not emptied between them), so
        # the sandbox keeps its rows too: every check below is over the whole world.
        self.control("config", settle_delay_seconds=0, reverse_delay_seconds=0, callback_retry_seconds=0)
        self.buyer = UserFactory()
        verified_bank(self.buyer, "7005550001", default=True)
        self.sellers = {}
        for outcome, number in SELLER_ACCOUNTS.items():
            seller = UserFactory()
            verified_bank(seller, number, default=True)
            self.sellers[outcome] = (seller, verified_bank(seller, f"70099{seller.pk:05d}"[-10:], default=False))
        self.officer = StaffFactory()
        self.officer.user_permissions.add(*Permission.objects.filter(
            codename__in=["resolve_dispute", "approve_refund", "record_provider_payment"]))
        self.officer = type(self.officer).objects.get(pk=self.officer.pk)
        self.ids: list[int] = []
        # Each example is a world of its own within the test's database (Hypothesis replays an
        # example and must see it behave the same): earlier examples' parts are out of reach of
        # the workers, and today's limit gets a full Daily Nominal Total of headroom, through the
        # service finance uses to record a limit Faspay agreed to.
        Disbursement.objects.update(next_attempt_at=None)
        today = timezone.localdate()
        used = DailyQuota.objects.filter(day=today).values_list("used", flat=True).first() or 0
        disbursement_services.daily_limit_change(limit=used + DAILY_LIMIT, effective_from=today, actor=self.officer,
                                                 reason="Dunia contoh baru")

    # --- helpers ------------------------------------------------------------------------------

    def _pick(self, index, *states) -> EscrowTransaction | None:
        """One of this example's transactions (in one of ``states``, if given)."""
        queryset = EscrowTransaction.objects.filter(pk__in=self.ids).select_related("seller", "buyer")
        if states:
            queryset = queryset.filter(status__in=states)
        return self._nth(queryset, index)

    def _has(self, *states) -> bool:
        return EscrowTransaction.objects.filter(pk__in=self.ids, status__in=states).exists()

    def _bills(self):
        return Bill.objects.filter(escrow_transaction__in=self.ids)

    def _parts(self):
        return Disbursement.objects.filter(payout__escrow_transaction__in=self.ids)

    def _disputes(self):
        return Dispute.objects.filter(escrow_transaction__in=self.ids, status=Dispute.Status.OPEN)

    def _refunds_in_review(self):
        return RefundRequest.objects.filter(escrow_transaction__in=self.ids, status=RefundRequest.Status.IN_REVIEW)

    def _failed_parts(self):
        return self._parts().filter(status__in=[Disbursement.Status.FAILED, Disbursement.Status.REVERSED],
                                    retried_by__isnull=True)

    refusals: Counter = Counter()

    @classmethod
    def _try(cls, call):
        try:
            return call()
        except ServiceError as refusal:
            cls.refusals[refusal.code] += 1
            return None  # refused in the current state: must change nothing (the invariants check)

    @staticmethod
    def _nth(queryset, index):
        rows = list(queryset.order_by("pk"))
        return rows[index % len(rows)] if rows else None

    # --- the buyer and the seller ---------------------------------------------------------------

    @initialize(outcome=st.sampled_from(sorted(SELLER_ACCOUNTS)), price=PRICES)
    def a_first_transaction(self, outcome, price):
        self.create(outcome, price, 0, "buyer")

    @precondition(lambda self: len(self.ids) < 5)  # a few transactions, each taken far
    @rule(outcome=st.sampled_from(sorted(SELLER_ACCOUNTS)), price=PRICES, shipping=st.integers(0, 500_000),
          payer=st.sampled_from(["buyer", "seller", "split"]))
    def create(self, outcome, price, shipping, payer):
        seller, _ = self.sellers[outcome]
        txn = scenarios.create(seller, self.buyer, price=price, shipping_cost=shipping, fee_payer=payer)
        self._try(lambda: services.transaction_accept(escrow_transaction=txn, buyer=self.buyer))
        self.ids.append(txn.pk)

    @precondition(lambda self: self._has(Status.CREATED))
    @rule(i=PICK, channel=st.sampled_from(CHANNELS))
    def choose_a_payment_method(self, i, channel):
        """The buyer opens a bill (again: a second open bill is how double payments happen)."""
        txn = self._pick(i, Status.CREATED)
        if txn is not None:
            self._try(lambda: payment_services.payment_start(escrow_transaction=txn, buyer=self.buyer,
                                                             channel_code=channel))

    @precondition(lambda self: self._bills().filter(status=Bill.Status.PENDING).exclude(provider_trx_id="").exists())
    @rule(j=PICK, how=st.sampled_from(["exact", "exact", "short", "excess"]), lost=st.booleans())
    def pay_at_faspay(self, j, how, lost):
        """The buyer pays an open bill at the sandbox; the notification arrives, or is lost and the
        poller finds the payment."""
        bill = self._nth(self._bills().filter(status=Bill.Status.PENDING).exclude(provider_trx_id=""), j)
        if bill is None:
            return
        if lost:
            self.control("bill_notification_url", trx_id=bill.provider_trx_id, url=f"{self.live_url}/nowhere/")
        if how == "exact":
            self.control("bill_pay", trx_id=bill.provider_trx_id)
        else:
            amount = bill.amount - 1_000 if how == "short" else bill.amount + 1_000
            self.control("bill_pay_wrong_amount", trx_id=bill.provider_trx_id, amount=amount)
        if lost:
            self._bills().exclude(next_check_at=None).update(next_check_at=timezone.now())
            escrow_tasks.poll_pending_bills()

    @precondition(lambda self: self._has(Status.CREATED, Status.PAID))
    @rule(i=PICK, short=st.booleans())
    def pay_by_bank_transfer(self, i, short):
        """The transfer shows on INTRASA's statement (a line a Rupiah short matches no bill)."""
        txn = self._pick(i, Status.CREATED, Status.PAID)
        bill = txn and txn.bills.filter(status=Bill.Status.PENDING,
                                        channel_code=payment_services.BANK_TRANSFER).first()
        if bill is None and txn is not None and txn.status == Status.CREATED:
            bill = self._try(lambda: scenarios.transfer_bill(txn, self.buyer))
        if bill is not None:
            self._try(lambda: scenarios.pay_by_transfer(txn, self.buyer, amount=bill.amount - int(short)))

    @precondition(lambda self: self._has(Status.VERIFIED))
    @rule(i=PICK)
    def ship(self, i):
        txn = self._pick(i, Status.VERIFIED)
        if txn is not None:
            self._try(lambda: services.transaction_ship(escrow_transaction=txn, seller=txn.seller,
                                                        courier="jne", tracking_number="JNE0012345678"))

    @precondition(lambda self: self._has(Status.SHIPPED))
    @rule(i=PICK)
    def confirm(self, i):
        txn = self._pick(i, Status.SHIPPED)
        if txn is not None:
            self._try(lambda: escrow_services.escrow_confirm(escrow_transaction=txn, buyer=self.buyer))

    @precondition(lambda self: self._has(Status.SHIPPED))
    @rule(i=PICK)
    def inspection_period_ends(self, i):
        txn = self._pick(i, Status.SHIPPED)
        if txn is not None and txn.status == Status.SHIPPED:
            EscrowTransaction.objects.filter(pk=txn.pk).update(
                inspection_ends_at=timezone.now() - dt.timedelta(minutes=1))
            self._try(lambda: escrow_services.escrow_auto_confirm(escrow_transaction=txn))

    @precondition(lambda self: self._has(Status.CREATED))
    @rule(i=PICK, by_seller=st.booleans())
    def cancel(self, i, by_seller):
        txn = self._pick(i, Status.CREATED, Status.PAID)
        if txn is not None:
            actor = txn.seller if by_seller else self.buyer
            self._try(lambda: services.transaction_cancel(escrow_transaction=txn, actor=actor, reason="Batal"))

    @precondition(lambda self: self._has(Status.VERIFIED, Status.SHIPPED))
    @rule(i=PICK)
    def seller_cancels_and_refunds(self, i):
        txn = self._pick(i, Status.VERIFIED, Status.SHIPPED)
        if txn is not None:
            self._try(lambda: escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=txn.seller,
                                                                       reason="Stok habis"))

    # --- disputes -------------------------------------------------------------------------------

    @precondition(lambda self: self._has(Status.VERIFIED, Status.SHIPPED))
    @rule(i=PICK)
    def open_dispute(self, i):
        txn = self._pick(i, Status.VERIFIED, Status.SHIPPED)
        if txn is not None:
            self._try(lambda: scenarios.open_dispute(txn, self.buyer, "Barang tidak sesuai",
                                                     reason="not_as_described"))

    @precondition(lambda self: self._disputes().exists())
    @rule(j=PICK, share=st.integers(0, 100))
    def parties_settle(self, j, share):
        """The seller offers a split, the buyer accepts."""
        dispute = self._nth(self._disputes(), j)
        if dispute is None:
            return
        held = dispute.escrow_transaction.amount_due
        offer = self._try(lambda: dispute_services.offer_propose(
            dispute=dispute, proposer=dispute.escrow_transaction.seller, outcome="split",
            buyer_amount=max(1, held * share // 100)))
        if offer is not None:
            self._try(lambda: dispute_services.offer_accept(offer=offer, user=self.buyer))

    @precondition(lambda self: self._disputes().exists())
    @rule(j=PICK, outcome=st.sampled_from(["refund", "release", "split"]), share=st.integers(1, 99))
    def staff_decide(self, j, outcome, share):
        dispute = self._nth(self._disputes(), j)
        if dispute is not None:
            amount = dispute.escrow_transaction.amount_due * share // 100 if outcome == "split" else None
            self._try(lambda: scenarios.resolve_dispute(dispute, self.officer, outcome, buyer_amount=amount))

    # --- refunds and payouts --------------------------------------------------------------------

    @precondition(lambda self: self._refunds_in_review().exists())
    @rule(j=PICK)
    def finance_approves_a_refund(self, j):
        request = self._nth(self._refunds_in_review(), j)
        if request is not None:
            self._try(lambda: refund_services.refund_approve(refund_request=request, actor=self.officer,
                                                                     reason="Sesuai kebijakan pengembalian"))

    @rule(fault=st.sampled_from(SENDME_FAULTS))
    def sendme_misbehaves_once(self, fault):
        self.control("fault", count=1, **fault)

    @precondition(lambda self: self._parts().filter(status=Disbursement.Status.QUEUED).exists())
    @rule(j=PICK)
    def a_worker_dies_after_reserving(self, j):
        """A worker reserved a part's quota and marked it sending, then died before calling SendMe."""
        part = self._nth(self._parts().filter(status=Disbursement.Status.QUEUED, not_before__isnull=True), j)
        if part is not None:
            disbursement_services._reserve(part.pk, timezone.now())

    @rule()
    def time_passes(self):
        """Leases and poll intervals run out, the sandbox settles and reverses, callbacks go out,
        and the beat jobs run: inquiries, resends, dispatch of due parts, the bill poller."""
        self.control("tick")
        self._parts().filter(next_attempt_at__isnull=False).update(
            next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
            sent_at=timezone.now() - dt.timedelta(minutes=10))
        disbursement_tasks.resolve_due_disbursements()
        disbursement_tasks.dispatch_due_disbursements()
        self._bills().exclude(next_check_at=None).update(next_check_at=timezone.now())
        escrow_tasks.poll_pending_bills()
        refund_services.refund_complete_paid()

    @precondition(lambda self: self._bills().filter(status=Bill.Status.PAID, paid_amount=None).exists())
    @rule()
    def finance_records_amounts_from_faspays_report(self):
        """A payment the poller found (its notification was lost) has no stated amount: finance
        records it from Faspay's transaction report — here, what the sandbox collected."""
        for bill in self._bills().filter(status=Bill.Status.PAID, paid_amount=None).exclude(provider_trx_id=""):
            collected = sandbox_models.Bill.objects.get(trx_id=bill.provider_trx_id).payment_total
            self._try(functools.partial(
                escrow_services.bill_record_provider_amount, bill_id=bill.pk, amount=collected, actor=self.officer,
                reason="Laporan transaksi Faspay", trx_id=bill.provider_trx_id))

    @rule()
    def finance_raises_the_daily_limit(self):
        """Faspay agrees to a higher Daily Nominal Total for today (terms A); parts waiting for the
        next day are looked at again."""
        today = timezone.localdate()
        self._try(lambda: disbursement_services.daily_limit_change(
            limit=quota.limit_for(today) + DAILY_LIMIT, effective_from=today, actor=self.officer,
            reason="Faspay menyetujui kenaikan limit harian"))
        self._parts().filter(status=Disbursement.Status.QUEUED,
                             waiting_for=Disbursement.Wait.DAILY_LIMIT).update(not_before=None)

    @precondition(lambda self: self._failed_parts().exists())
    @rule(j=PICK, same_account=st.booleans())
    def staff_retry_a_failed_part(self, j, same_account):
        part = self._nth(self._failed_parts().select_related("payout"), j)
        if part is None:
            return
        # A seller's spare account (another verified account in their name), or the same one again.
        destination = None if same_account else next(
            (spare for seller, spare in self.sellers.values() if seller.pk == part.payout.recipient_id), None)
        self._try(lambda: disbursement_services.disbursement_retry(disbursement=part, actor=self.officer,
                                                                   destination=destination))

    # --- what must always hold ------------------------------------------------------------------

    @invariant()
    def the_books_and_every_cross_check_hold(self):
        assert ledger_breaches() == []

    @invariant()
    def no_day_goes_over_its_limit(self):
        for day in DailyQuota.objects.all():
            assert day.used <= quota.limit_for(day.day), f"{day.day}: used {day.used} of {day.limit}"

    @invariant()
    def the_provider_paid_what_intrasa_says_and_nothing_twice(self):
        everything_planned = set(Disbursement.objects.values_list("partner_reference_no", flat=True))
        assert set(sandbox_models.Transfer.objects.values_list("partner_reference_no", flat=True)) \
            <= everything_planned, "the provider executed a transfer INTRASA never planned"
        parts = {p.partner_reference_no: p for p in self._parts()}
        sent = {t.partner_reference_no: t for t in sandbox_models.Transfer.objects.filter(partner_reference_no__in=parts)}
        for reference, part in parts.items():
            transfer = sent.get(reference)
            if part.status == Disbursement.Status.SUCCEEDED:
                assert transfer is not None and transfer.status in ("00", "04"), reference
                assert transfer.amount == part.amount, reference
            if part.status in (Disbursement.Status.FAILED, Disbursement.Status.QUEUED):
                assert transfer is None or transfer.status != "00", reference

    @invariant()
    def state_machines_agree_with_the_ledger(self):
        # Disbursed: nothing is owed to the seller, and a seller payout (none when a split left the
        # seller nothing) is complete.
        for txn in EscrowTransaction.objects.filter(pk__in=self.ids, status=Status.DISBURSED):
            assert transaction_balances(escrow_transaction=txn).get(AccountCategory.SELLER_PAYABLE, 0) == 0, txn
            assert not txn.payouts.filter(purpose=Payout.Purpose.SELLER_PAYOUT).exclude(
                status=Payout.Status.COMPLETED).exists(), txn
        for payout in Payout.objects.filter(escrow_transaction__in=self.ids,
                                            status=Payout.Status.COMPLETED).prefetch_related("parts"):
            live = [p for p in payout.parts.all() if p.status != Disbursement.Status.FAILED
                    and p.status != Disbursement.Status.REVERSED]
            assert live and all(p.status == Disbursement.Status.SUCCEEDED for p in live), payout.pk

    def teardown(self):
        """The workers catch up; then the provider and the ledger agree per transaction, to the Rupiah."""
        self.control("clear_faults")
        for _ in range(3):
            self.time_passes()
            self.finance_records_amounts_from_faspays_report()
        assert ledger_breaches() == []
        provider_collected = defaultdict(int)
        ours = dict(self._bills().exclude(provider_trx_id="").values_list("provider_trx_id", "escrow_transaction"))
        for trx_id, total in sandbox_models.Bill.objects.filter(status_code="2", trx_id__in=ours).values_list(
                "trx_id", "payment_total"):
            provider_collected[ours[trx_id]] += total
        booked = defaultdict(int)
        for txn_id, amount in (Posting.objects.filter(
                entry__escrow_transaction__in=self.ids,
                side=Posting.Side.DEBIT, account__category=AccountCategory.PROVIDER_CLEARING,
                entry__kind__in=[EntryKind.PAYMENT_VERIFIED, EntryKind.PAYMENT_UNMATCHED])
                .values_list("entry__escrow_transaction").annotate(total=Sum("amount"))):
            booked[txn_id] += amount
        assert dict(provider_collected) == {k: v for k, v in booked.items() if v}
        provider_paid = defaultdict(int)
        part_txn = dict(self._parts().values_list("partner_reference_no", "payout__escrow_transaction"))
        for reference, amount in sandbox_models.Transfer.objects.filter(status="00", partner_reference_no__in=part_txn).values_list(
                "partner_reference_no", "amount"):
            provider_paid[part_txn[reference]] += amount
        ledger_paid = defaultdict(int)
        for txn_id, amount in (Posting.objects.filter(
                entry__escrow_transaction__in=self.ids,
                side=Posting.Side.CREDIT, account__category=AccountCategory.SENDME_DEPOSIT,
                entry__kind__in=[EntryKind.PAYOUT, EntryKind.REFUND_SENT])
                .values_list("entry__escrow_transaction").annotate(total=Sum("amount"))):
            ledger_paid[txn_id] += amount
        for txn_id, amount in (Posting.objects.filter(
                entry__escrow_transaction__in=self.ids,
                side=Posting.Side.DEBIT, account__category=AccountCategory.SENDME_DEPOSIT,
                entry__kind=EntryKind.PAYOUT_REVERSED)
                .values_list("entry__escrow_transaction").annotate(total=Sum("amount"))):
            ledger_paid[txn_id] -= amount
        assert dict(provider_paid) == {k: v for k, v in ledger_paid.items() if v}
        if os.environ.get("INTRASA_PROPERTY_REPORT"):
            print("\nworld:", {s: n for s, n in Counter(EscrowTransaction.objects.values_list("status", flat=True)).items()},
                  "parts:", dict(Counter(Disbursement.objects.values_list("status", flat=True))),
                  "bills:", dict(Counter(Bill.objects.values_list("status", flat=True))),
                  "refunds:", dict(Counter(RefundRequest.objects.values_list("status", flat=True))),
                  "disputes:", dict(Counter(Dispute.objects.values_list("status", flat=True))),
                  "refusals:", dict(self.refusals))


@pytest.fixture
def sandbox(live_server, settings, tmp_path):
    """INTRASA pointed at the sandbox on the live server, for collections and SendMe alike."""
    settings.SITE_URL = live_server.url
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.FASPAY_DEBIT_BASE_URL = f"{live_server.url}/sandbox/debit"
    settings.SENDME_BASE_URL = f"{live_server.url}/sandbox/sendme"
    settings.SENDME_PRIVATE_KEY_PATH = str(DATA / "test-only-merchant-key.pkcs8.pem")
    settings.SENDME_PUBLIC_KEY_PATH = str(DATA / "test-only-merchant-key.public.pem")
    settings.SNAP_DEV_KEY_DIR = str(tmp_path / "keys")
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 3
    settings.SENDME_NIGHT_HOLD_BANK = False
    settings.SENDME_DAILY_NOMINAL_TOTAL = DAILY_LIMIT
    settings.INTRASA_INVITATIONS_PER_DAY = 10_000
    keys.clear_key_cache()
    control = SandboxControl(live_server.url)
    yield control
    control.close()
    keys.clear_key_cache()


def test_the_money_system_holds_under_random_actions_and_provider_faults(sandbox, live_server):
    MoneySystem.control = sandbox
    MoneySystem.live_url = live_server.url
    run_state_machine_as_test(MoneySystem, settings=hypothesis_settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=not os.environ.get(
            "INTRASA_PROPERTY_RANDOM"),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much]))
