"""Erasing an account (UU PDP Pasal 8, 43): refused with the reason while anything is open; then
what is no longer needed goes at once, what the law requires stays, apart from the person, and the
person is told what, why and until when. The ledger is never touched."""
import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import PayoutDestination, User
from audit.models import AuditEntry
from disbursements.models import Disbursement, Payout
from disputes.models import Dispute
from intrasa.wib import format_wib
from ledger.models import AccountCategory, EntryKind, JournalEntry, Posting
from ledger.services import credit, debit, entry_post
from notifications.models import Notification
from notifications.services import notify
from privacy import retention, selectors, services
from privacy.models import (
    ConsentEvent,
    EmailChangeRequest,
    ErasureRecord,
    PersonalDataExport,
    ProfileChange,
    RetainedIdentity,
)
from refunds.models import RefundRequest
from tests import scenarios
from tests.disbursements.conftest import confirmed, sendme, verified_bank  # noqa: F401 - fixtures
from tests.factories import BankDestinationFactory, StaffFactory
from transactions.models import EscrowTransaction, Status
from transactions.tasks import expire_unpaid_transactions

from .conftest import cancelled

ERASE = reverse("privacy:erase")


# --- refused while anything is open --------------------------------------------------------------

def open_transaction(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    return f"Transaction {txn.reference} is not closed yet (Awaiting payment)."


def open_dispute(seller, buyer):
    txn = cancelled(seller, buyer)
    Dispute.objects.create(escrow_transaction=txn, reason="defective", description="Rusak", opened_by=buyer)
    return f"The dispute on {txn.reference} is still open."


def open_refund(seller, buyer):
    txn = cancelled(seller, buyer)
    RefundRequest.objects.create(escrow_transaction=txn, buyer=buyer, case="cancellation", source_key="t-1",
                                 amount=50_000, payment_family="va", status=RefundRequest.Status.IN_REVIEW)
    return f"The refund request for {txn.reference} is still being handled (Documents complete: being verified)."


def unfinished_payout(seller, buyer):
    txn = cancelled(seller, buyer)
    Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                          amount=50_000, status=Payout.Status.IN_PROGRESS)
    return f"The payout of Rp 50.000 for {txn.reference} is not finished (Being paid out)."


def pending_transfer(seller, buyer):
    txn = cancelled(seller, buyer)
    payout = Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                                   amount=50_000, status=Payout.Status.COMPLETED)
    Disbursement.objects.create(payout=payout, sequence=1, kind="bank", amount=50_000, partner_reference_no="P-1",
                                description="x", status=Disbursement.Status.PENDING)
    return f"A transfer of Rp 50.000 for {txn.reference} is not final yet (Accepted by SendMe, in process)."


def money_owed(seller, buyer):
    txn = cancelled(seller, buyer)
    with transaction.atomic():
        entry_post(idempotency_key="owed-back", kind=EntryKind.PAYMENT_UNMATCHED, memo="late payment",
                   escrow_transaction=txn, lines=[debit(AccountCategory.PROVIDER_CLEARING, 75_000),
                                                  credit(AccountCategory.BUYER_REFUND_PAYABLE, 75_000)])
    return f"INTRASA still holds or owes Rp 75.000 on {txn.reference}."


@pytest.mark.django_db
@pytest.mark.parametrize("make_open", [open_transaction, open_dispute, open_refund, unfinished_payout,
                                       pending_transfer, money_owed])
def test_erasure_is_refused_with_the_reason_while_something_is_open(client, seller, buyer, password, make_open):
    reason = make_open(seller, buyer)
    client.force_login(buyer)
    page = client.get(ERASE).content.decode()
    assert reason in page and 'data-testid="erasure-blockers"' in page
    assert 'data-testid="erase-confirm"' not in page
    response = client.post(ERASE, {"password": password, "confirm": "on"})
    assert response.status_code == 400 and reason in response.content.decode()
    with pytest.raises(services.PrivacyError) as refused:
        services.account_erase(user=buyer)
    assert refused.value.code == "blocked" and reason in refused.value.message
    buyer.refresh_from_db()
    assert buyer.is_active and buyer.email == "budi@example.co.id" and not ErasureRecord.objects.exists()


@pytest.mark.django_db
def test_staff_accounts_are_not_erased_from_the_website():
    staff = StaffFactory(email="staf@intrasa.co.id")
    assert selectors.erasure_blockers(user=staff) == [
        "Staff accounts are closed by INTRASA's administrators, not from this page."]


@pytest.mark.django_db
def test_the_password_and_the_confirmation_are_required(client, buyer, password):
    client.force_login(buyer)
    assert client.post(ERASE, {"password": "salah-sandi-123", "confirm": "on"}).status_code == 400
    assert client.post(ERASE, {"password": password}).status_code == 400
    buyer.refresh_from_db()
    assert buyer.is_active


# --- what an erasure does -----------------------------------------------------------------------

@pytest.fixture
def closed_history(seller, buyer):
    """The buyer has bought (cancelled), has a payout account that received money and one that
    never did, a consent, a notification, an archive and a pending email change."""
    txn = cancelled(seller, buyer)
    used = BankDestinationFactory(owner=buyer, account_number="7001234567", account_holder_name="Budi Pembeli",
                                  is_default=True)
    unused = BankDestinationFactory(owner=buyer, account_number="7009999999", account_holder_name="Budi Pembeli")
    payout = Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                                   amount=10_000, status=Payout.Status.COMPLETED, completed_at=timezone.now())
    Disbursement.objects.create(payout=payout, sequence=1, kind="bank", amount=10_000, destination=used,
                                bank_code="014", account_number="7001234567", account_name="Budi Pembeli",
                                partner_reference_no="P-2", description="x", status=Disbursement.Status.SUCCEEDED)
    services.consent_set(user=buyer, purpose="marketing_email", granted=True)
    notify(event_key="n1", kind="confirmed_buyer", recipient=buyer,
           context={"reference": txn.reference, "title": "Kamera", "amount": "Rp 1", "seller": "s"})
    PersonalDataExport.objects.create(user=buyer, status=PersonalDataExport.Status.READY)
    services.email_change_request(user=buyer, new_email="budi.lain@example.co.id")
    return {"txn": txn, "used": used, "unused": unused}


@pytest.mark.django_db
def test_the_page_before_confirming_says_what_is_kept_why_and_until_when(client, buyer, closed_history):
    client.force_login(buyer)
    page = client.get(ERASE).content.decode()
    assert 'data-testid="erase-confirm"' in page
    assert "1 transaction with its payments and payouts" in page
    closed_at = closed_history["txn"].closed_at
    until = retention.TRANSACTION_RECORDS.until(closed_at)
    with translation.override("en"):
        assert format_wib(until, with_time=False) in page
    assert str(retention.TRANSACTION_RECORDS.purpose) in page.replace("&#x27;", "'")
    assert "UU No. 8/2010 (TPPU), Pasal 21 ayat (2)" in page  # the identity kept for AML
    assert "Your name, email address and mobile number are removed" in page


@pytest.mark.django_db
def test_erasure_removes_what_is_no_longer_needed_and_keeps_the_rest_apart(client, buyer, seller, password,
                                                                           closed_history, committed):
    other_device = Client()
    other_device.force_login(buyer)
    other_key = other_device.session.session_key
    client.force_login(buyer)
    client.post(reverse("accounts:profile"), {"profile-full_name": "Budi P.", "profile-phone": "0812 0000 1111",
                                               "profile-preferred_language": "en"})
    original = {"full_name": "Budi P.", "email": "budi@example.co.id", "phone": "+6281200001111"}
    with committed():
        response = client.post(ERASE, {"password": password, "confirm": "on"})
    assert response.status_code == 302 and response.url == reverse("home")

    buyer.refresh_from_db()
    assert buyer.full_name == f"Pengguna terhapus #{buyer.pk}"
    assert buyer.email == f"terhapus-{buyer.pk}@pengguna-terhapus.invalid"
    assert buyer.phone == "" and not buyer.is_active and not buyer.has_usable_password()
    assert buyer.email_verified_at is None
    # Logged out here and everywhere else.
    assert "_auth_user_id" not in client.session
    assert not Session.objects.filter(session_key=other_key).exists()
    assert other_device.get(reverse("privacy:my_data")).status_code == 302
    # The real login form (django-axes authenticates only with the request in hand) refuses it.
    attempt = Client().post(reverse("accounts:login"), {"username": "budi@example.co.id", "password": password})
    assert attempt.status_code != 302 and "_auth_user_id" not in attempt.client.session
    # Consents withdrawn (and the withdrawal recorded), notifications emptied, archives and
    # email changes gone, the unused payout account deleted, the used one kept as a payout record.
    assert not selectors.consent_states(user=buyer)[0].granted
    assert ConsentEvent.objects.filter(user=buyer, granted=False, via="erasure").exists()
    assert not Notification.objects.filter(recipient=buyer).exclude(subject="", body="", params={}, email="").exists()
    assert not Notification.objects.filter(email="budi.lain@example.co.id").exists()  # the link to the new address
    assert not PersonalDataExport.objects.filter(user=buyer).exists()
    assert not EmailChangeRequest.objects.filter(user=buyer).exists()
    assert not PayoutDestination.objects.filter(pk=closed_history["unused"].pk).exists()
    used = PayoutDestination.objects.get(pk=closed_history["used"].pk)
    assert used.is_archived and not used.is_default and used.account_number == "7001234567"
    assert Disbursement.objects.get().account_number == "7001234567"  # what was paid, kept
    txn = closed_history["txn"]
    txn.refresh_from_db()
    assert txn.buyer == buyer and txn.buyer_email == "" and txn.title == "Kamera Mirrorless Bekas"
    # The identity stays for the anti-money-laundering period, apart from the account.
    erasure = ErasureRecord.objects.get(user=buyer)
    identity = RetainedIdentity.objects.get(erasure=erasure)
    assert {"full_name": identity.full_name, "email": identity.email, "phone": identity.phone} == original
    assert identity.delete_after == retention.IDENTITY_AFTER_ERASURE.until(erasure.erased_at)
    assert ProfileChange.objects.filter(user=buyer).exists()  # kept with the identity
    assert {item["rule"] for item in erasure.kept} >= {"identity_after_erasure", "transaction_records",
                                                       "audit_trail", "login_records"}
    assert AuditEntry.objects.filter(action="privacy.account_erase", object_id=str(erasure.pk)).exists()
    # The confirmation went to the old address, once, with what is kept and until when.
    confirmation = [m for m in mail.outbox if m.to == ["budi@example.co.id"] and "erased" in m.subject]
    assert len(confirmation) == 1
    body = confirmation[0].body
    assert "1 transaction with its payments and payouts" in body and "UU No. 8/1997" in body
    with translation.override("en"):  # the language of the person's profile
        assert format_wib(identity.delete_after, with_time=False) in body
    erasure.refresh_from_db()
    assert erasure.confirmation_email == "" and erasure.confirmation_sent_at is not None
    assert services.erasure_confirmation_send(erasure_id=erasure.pk) is False  # never twice
    # The other party sees the pseudonym.
    client.force_login(seller)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert f"Pengguna terhapus #{buyer.pk}" in page and "Budi P." not in page


@pytest.mark.django_db
def test_someone_who_never_transacted_leaves_no_identity_behind(buyer, committed):
    services.consent_set(user=buyer, purpose="product_news", granted=True)
    buyer.full_name = "Budi Baru"
    buyer.save()
    with committed():
        erasure = services.account_erase(user=buyer)
    assert not RetainedIdentity.objects.exists()
    assert not ProfileChange.objects.filter(user=buyer).exists()
    assert not ConsentEvent.objects.filter(user=buyer).exists()
    assert {item["rule"] for item in erasure.kept} == {"audit_trail"}


@pytest.mark.django_db
def test_a_lost_confirmation_task_is_sent_by_the_sweep(buyer, mailoutbox):
    from privacy.tasks import send_pending_erasure_confirmations

    erasure = services.account_erase(user=buyer)  # on_commit never ran: the broker "lost" it
    ErasureRecord.objects.filter(pk=erasure.pk).update(erased_at=timezone.now() - dt.timedelta(minutes=5))
    assert send_pending_erasure_confirmations() == 1
    assert send_pending_erasure_confirmations() == 0
    assert [m.to for m in mailoutbox] == [["budi@example.co.id"]]


@pytest.mark.django_db(transaction=True)
def test_the_confirmation_goes_out_with_no_transaction_open_and_comes_back_after_a_failure(buyer, monkeypatch):
    """SMTP after commit (DESIGN.md §3): no transaction is open and no lock held while the mail
    server answers; a failed send leaves the confirmation to the sweep, with its address."""
    import smtplib

    from django.core import mail
    from django.core.mail.backends import locmem
    from django.db import connection

    from privacy.tasks import send_pending_erasure_confirmations

    erasure = services.account_erase(user=buyer)  # its task ran (eager) after the commit
    assert [m.to for m in mail.outbox] == [["budi@example.co.id"]]
    original = locmem.EmailBackend.send_messages
    mail.outbox.clear()
    # As if that task had been lost: the sweep will find it.
    ErasureRecord.objects.filter(pk=erasure.pk).update(
        confirmation_sent_at=None, confirmation_claimed_at=None, confirmation_email="budi@example.co.id",
        erased_at=timezone.now() - dt.timedelta(minutes=5))
    tried = []

    def down(self, messages):
        tried.append(connection.in_atomic_block)
        raise smtplib.SMTPServerDisconnected("the mail server went away")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", down)
    assert send_pending_erasure_confirmations() == 0 and tried == [False]
    erasure.refresh_from_db()
    assert erasure.confirmation_email == "budi@example.co.id" and erasure.confirmation_claimed_at is None
    assert erasure.confirmation_attempts == 1 and erasure.confirmation_retry_at > timezone.now()
    assert send_pending_erasure_confirmations() == 0 and tried == [False]  # not before its backoff
    ErasureRecord.objects.filter(pk=erasure.pk).update(confirmation_retry_at=timezone.now())
    seen = []

    def up(self, messages):
        seen.append(connection.in_atomic_block)
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", up)
    assert send_pending_erasure_confirmations() == 1
    assert seen == [False] and len(mail.outbox) == 1
    erasure.refresh_from_db()
    assert erasure.confirmation_email == "" and erasure.confirmation_sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_refused_confirmations_back_off_are_given_up_and_cannot_starve_a_newer_one(monkeypatch, caplog):
    """Confirmations to addresses the mail server refuses, all older than a good one whose task was
    lost: the sweep tries them, leaves them for their backoff and sends the good one; after a few
    refusals it gives them up and forgets the address, which will never be used."""
    import smtplib

    from django.core import mail
    from django.core.mail.backends import locmem

    from notifications import backoff
    from privacy import tasks
    from tests.factories import UserFactory

    monkeypatch.setattr(tasks, "SWEEP_BATCH", 2)
    addresses = ["refused0@example.invalid", "refused1@example.invalid", "good@example.invalid"]
    erasures = [services.account_erase(user=UserFactory(email=address)) for address in addresses]
    for address, erasure in zip(addresses, erasures, strict=True):  # as if their tasks had been lost
        ErasureRecord.objects.filter(pk=erasure.pk).update(
            confirmation_sent_at=None, confirmation_claimed_at=None, confirmation_email=address,
            erased_at=timezone.now() - dt.timedelta(minutes=5))
    mail.outbox.clear()
    refused, good = erasures[:2], erasures[2]
    asked = []
    original = locmem.EmailBackend.send_messages

    def server(self, messages):
        asked.append(messages[0].to[0])
        if messages[0].to[0].startswith("refused"):
            raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"no such user")})
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", server)
    assert tasks.send_pending_erasure_confirmations() == 0
    assert sorted(asked) == ["refused0@example.invalid", "refused1@example.invalid"]
    asked.clear()
    assert tasks.send_pending_erasure_confirmations() == 1
    assert asked == ["good@example.invalid"] and [m.to for m in mail.outbox] == [["good@example.invalid"]]
    good.refresh_from_db()
    assert good.confirmation_sent_at is not None
    for _try in range(backoff.MAX_ATTEMPTS_REFUSED - 1):
        ErasureRecord.objects.filter(confirmation_retry_at__isnull=False).update(confirmation_retry_at=timezone.now())
        tasks.send_pending_erasure_confirmations()
    assert len(asked) == 1 + 2 * (backoff.MAX_ATTEMPTS_REFUSED - 1)
    for erasure in refused:
        erasure.refresh_from_db()
        assert erasure.confirmation_failed_at is not None and erasure.confirmation_sent_at is None
        assert erasure.confirmation_attempts == backoff.MAX_ATTEMPTS_REFUSED
        assert erasure.confirmation_email == ""  # never to be sent: the address is not kept
    assert len([r for r in caplog.records if r.levelname == "ERROR" and r.getMessage().startswith("gave up")]) == 2
    ErasureRecord.objects.update(confirmation_retry_at=None)
    assert tasks.send_pending_erasure_confirmations() == 0 and len(asked) == 1 + 2 * (backoff.MAX_ATTEMPTS_REFUSED - 1)


@pytest.mark.django_db
def test_staff_see_which_erasure_confirmations_were_given_up(client, customer_service_officer, in_english):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    from tests.factories import UserFactory

    given_up, pending = (services.account_erase(user=UserFactory()) for _n in range(2))
    ErasureRecord.objects.filter(pk=given_up.pk).update(confirmation_attempts=3, confirmation_failed_at=timezone.now(),
                                                       confirmation_email="")
    customer_service_officer.user_permissions.add(Permission.objects.get(codename="view_erasurerecord"))
    client.force_login(customer_service_officer)
    changelist = reverse("admin:privacy_erasurerecord_changelist")
    page = client.get(changelist + "?confirmation_failed_at__isempty=0")
    assert page.status_code == 200 and [e.pk for e in page.context["cl"].result_list] == [given_up.pk]
    assert [e.pk for e in client.get(changelist + "?confirmation_failed_at__isempty=1").context["cl"].result_list] == \
        [pending.pk]
    assert "Failed confirmation attempts" in page.content.decode()


# --- the ledger is never touched -----------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_erasing_both_parties_of_a_paid_out_transaction_keeps_the_books(sendme, confirmed, seller, buyer):
    txn = confirmed()
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
    call_command("ledger_check")
    entries = list(JournalEntry.objects.order_by("pk").values_list("pk", "idempotency_key", "memo"))
    postings = list(Posting.objects.order_by("pk").values_list("pk", "entry_id", "account_id", "side", "amount"))
    part = Disbursement.objects.get()

    services.account_erase(user=seller)
    services.account_erase(user=buyer)

    call_command("ledger_check")
    assert list(JournalEntry.objects.order_by("pk").values_list("pk", "idempotency_key", "memo")) == entries
    assert list(Posting.objects.order_by("pk").values_list("pk", "entry_id", "account_id", "side", "amount")) == postings
    part.refresh_from_db()
    assert part.account_number == "7001234567" and part.account_name == "Sari Penjual"  # the payout record
    assert User.objects.filter(pk__in=[seller.pk, buyer.pk], is_active=False).count() == 2
    assert RetainedIdentity.objects.count() == 2


@pytest.mark.django_db
def test_erasure_closes_payment_links_revokes_partner_links_and_withdraws_unanswered_plans(buyer, seller, committed):
    """The newer apps, through their own services: nothing can start a transaction in an erased
    account's name any more; what was answered or done stays as a record."""
    from milestones import services as milestone_services
    from milestones.models import MilestonePlan
    from partners.models import SellerLink
    from paylinks import services as paylink_services
    from paylinks.models import PaymentLink
    from tests.milestones.conftest import propose
    from tests.partners.conftest import link_seller, make_partner

    terms = dict(description="64 GB, mulus.", category="physical", price=2_750_000, shipping_cost=25_000,
                 fee_payer="buyer", inspection_days=2, shipping_days=2)
    active = paylink_services.payment_link_create(seller=buyer, title="iPhone 11 bekas", **terms)
    paused = paylink_services.payment_link_pause(
        payment_link=paylink_services.payment_link_create(seller=buyer, title="Casing iPhone", **terms), seller=buyer)
    already = paylink_services.payment_link_close(
        payment_link=paylink_services.payment_link_create(seller=buyer, title="Charger", **terms), seller=buyer)
    theirs = paylink_services.payment_link_create(seller=seller, title="Kamera", **terms)
    partner, *_rest = make_partner()
    live = link_seller(partner, buyer)
    other_partner, *_rest = make_partner(name="Pasar Daring")
    other_link = link_seller(other_partner, seller)
    unanswered = propose(buyer, seller)  # the erased person proposed it; the seller never answered
    declined = milestone_services.milestone_plan_decline(plan=propose(seller, buyer), user=buyer, reason="Terlalu mahal")
    received = propose(seller, buyer)  # proposed to the erased person: the seller's own plan, left alone
    bought = propose(seller, buyer, schedule="upfront", amounts=(1_000_000, 1_000_000))
    milestone_services.milestone_plan_accept(plan=bought, buyer=buyer)
    EscrowTransaction.objects.filter(milestone__plan=bought).update(payment_due_at=timezone.now())
    expire_unpaid_transactions()  # its milestones ended unpaid: nothing open holds the erasure back

    with committed():
        services.account_erase(user=buyer)

    links = {link.pk: link for link in PaymentLink.objects.all()}
    assert {links[link.pk].status for link in (active, paused, already)} == {PaymentLink.Status.CLOSED}
    assert links[active.pk].closed_at is not None and links[already.pk].closed_at == already.closed_at
    assert links[theirs.pk].status == PaymentLink.Status.ACTIVE
    assert paylink_services.payment_link_refusal(payment_link=links[active.pk])[0] == "closed"
    assert AuditEntry.objects.filter(action="payment_link.close", object_id__in=[str(active.pk), str(paused.pk)],
                                     actor=buyer).count() == 2
    assert SellerLink.objects.get(pk=live.pk).revoked_at is not None
    assert SellerLink.objects.get(pk=other_link.pk).revoked_at is None
    assert AuditEntry.objects.filter(action="partner.link_revoke", object_id=str(live.pk)).exists()
    plans = {plan.pk: plan for plan in MilestonePlan.objects.all()}
    assert plans[unanswered.pk].status == MilestonePlan.Status.CANCELLED and plans[unanswered.pk].closed_at
    assert AuditEntry.objects.get(action="milestone_plan.cancel", object_id=str(unanswered.pk)).reason == \
        "Akun penjual telah dihapus."  # in the staff's language, whatever the request's
    assert plans[declined.pk].status == MilestonePlan.Status.DECLINED  # the seller's, answered: untouched
    assert plans[declined.pk].title == "Desain dan pembuatan situs toko"
    assert plans[received.pk].status == MilestonePlan.Status.PROPOSED
    # The address the seller invited the erased person at goes, from every plan that named it.
    assert [plans[plan.pk].buyer_email for plan in (received, declined, bought)] == ["", "", ""]
    assert plans[bought.pk].buyer_id == buyer.pk
    # The erased person's own offer never became a transaction: nothing needs it any more
    # (tests/privacy/test_offers_privacy.py).
    assert (plans[unanswered.pk].buyer_email, plans[unanswered.pk].title) == ("", "—")


@pytest.mark.django_db
def test_a_refused_erasure_leaves_payment_links_and_plans_open(buyer, seller):
    """The links and plans are closed in the erasure's own transaction: refused, nothing changed."""
    from milestones.models import MilestonePlan
    from paylinks import services as paylink_services
    from paylinks.models import PaymentLink
    from tests.milestones.conftest import propose

    link = paylink_services.payment_link_create(
        seller=buyer, title="iPhone 11 bekas", description="64 GB, mulus.", category="physical", price=2_750_000,
        shipping_cost=25_000, fee_payer="buyer", inspection_days=2, shipping_days=2)
    plan = propose(buyer, seller)
    reason = open_transaction(seller, buyer)
    with pytest.raises(services.PrivacyError) as refused:
        services.account_erase(user=buyer)
    assert reason in refused.value.message
    assert PaymentLink.objects.get(pk=link.pk).status == PaymentLink.Status.ACTIVE
    assert MilestonePlan.objects.get(pk=plan.pk).status == MilestonePlan.Status.PROPOSED
    assert not AuditEntry.objects.filter(action__in=["payment_link.close", "milestone_plan.cancel"]).exists()


@pytest.mark.django_db
def test_an_accepted_plan_with_milestones_still_to_open_blocks_erasure(client, buyer, seller, password):
    """Milestone by milestone: the next one would open as a transaction in the person's name, even
    with every opened one closed (here the first ended unpaid)."""
    from milestones import services as milestone_services
    from tests.milestones.conftest import propose
    from transactions import services as txn_services

    plan = milestone_services.milestone_plan_accept(plan=propose(seller, buyer, schedule="per_milestone"), buyer=buyer)
    first = plan.milestones.get(position=1).escrow_transaction
    txn_services.transaction_cancel(escrow_transaction=first, actor=seller, reason="Jadwal berubah")
    reason = "The milestone plan “Desain dan pembuatan situs toko” still has milestones to open."
    assert selectors.erasure_blockers(user=buyer) == [reason]
    assert selectors.erasure_blockers(user=seller) == [reason]
    client.force_login(buyer)
    response = client.post(ERASE, {"password": password, "confirm": "on"})
    assert response.status_code == 400 and reason in response.content.decode()
    buyer.refresh_from_db()
    assert buyer.is_active and not ErasureRecord.objects.exists()
