"""Invitations are not bare bearer tokens, inviting needs a verified sender and has a daily limit,
and no email subject carries text a user wrote (issue 13, "Logins and accounts")."""
import datetime as dt
import string

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.messages import MESSAGES, SUBJECT_FIELDS
from notifications.models import Notification
from tests import scenarios
from tests.factories import UserFactory
from transactions import services
from transactions.models import EscrowTransaction, Status, TransactionEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

CREATE = reverse("transactions:create")
CREATE_FORM = {
    "title": "Sepeda Lipat", "description": "Warna hitam, lengkap dengan tas.", "category": "physical",
    "price": "Rp 2.500.000", "shipping_cost": "75.000", "fee_payer": "split", "inspection_days": "3",
    "shipping_days": "2", "buyer_email": "budi@example.co.id", "buyer_phone": "",
}


def _invitation_url(txn):
    return reverse("transactions:invitation", args=[txn.invitation_token])


def _unchanged(txn):
    txn.refresh_from_db()
    return (txn.status == Status.CREATED and txn.buyer_id is None
            and list(txn.events.values_list("action", flat=True)) == ["created"])


# --- who may accept or decline --------------------------------------------------------------

@pytest.mark.parametrize("answer", [{"accept": "1"}, {"decline": "1", "reason": "Bukan saya"}])
def test_a_logged_in_stranger_cannot_answer_an_invitation_addressed_to_someone_else(client, seller, buyer,
                                                                                      stranger, answer):
    txn = scenarios.create(seller, buyer)
    client.force_login(stranger)

    page = client.get(_invitation_url(txn))
    response = client.post(_invitation_url(txn), answer)

    assert _unchanged(txn)
    assert response.status_code == 403
    text = response.content.decode()
    assert "This invitation was sent to bu**@e******.co.id" in text  # masked, recognisable
    assert buyer.email not in text
    assert "log in (or sign up) with the address the invitation was sent to" in text
    # The page says so before anyone presses a button, and offers no accept/decline buttons.
    assert 'name="accept"' not in page.content.decode()
    assert page.context["refusal_code"] == "not_addressee"


@pytest.mark.parametrize("call", ["accept", "decline"])
def test_the_services_refuse_a_stranger_too(seller, buyer, stranger, call):
    txn = scenarios.create(seller, buyer)
    with pytest.raises(services.TransactionActionError) as refused:
        if call == "accept":
            services.transaction_accept(escrow_transaction=txn, buyer=stranger)
        else:
            services.transaction_decline(escrow_transaction=txn, user=stranger, reason="iseng")
    assert refused.value.code == "not_addressee"
    assert _unchanged(txn)


def test_the_invited_address_must_be_verified(client, seller):
    txn = scenarios.create(seller, buyer_email="pembeli.baru@example.co.id")
    unverified = UserFactory(email="pembeli.baru@example.co.id", email_verified_at=None)
    client.force_login(unverified)

    response = client.post(_invitation_url(txn), {"accept": "1"})

    assert response.status_code == 403
    assert "Verify your email address first" in response.content.decode()
    assert _unchanged(txn)


@pytest.mark.parametrize("typed", ["BUDI@Example.co.id", "ｂｕｄｉ@example.co.id", " budi@example.co.id "])
def test_the_invited_verified_address_accepts_however_the_seller_spelled_it(client, seller, buyer, typed):
    txn = scenarios.create(seller, buyer_email=typed)
    assert txn.buyer_email == "budi@example.co.id"
    client.force_login(buyer)

    response = client.post(_invitation_url(txn), {"accept": "1"})

    assert response.status_code == 302
    txn.refresh_from_db()
    assert txn.buyer == buyer


def test_the_invited_person_can_decline(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    client.force_login(buyer)
    client.post(_invitation_url(txn), {"decline": "1", "reason": "Sudah beli di tempat lain"})
    txn.refresh_from_db()
    assert txn.status == Status.CANCELLED


def test_phone_only_invitations_go_to_the_first_verified_user_and_the_seller_sees_who(
        client, seller, stranger, django_capture_on_commit_callbacks):
    txn = scenarios.create(seller, buyer_phone="+6281298765432")
    unverified = UserFactory(email="belum@example.co.id", email_verified_at=None)
    client.force_login(unverified)
    assert client.post(_invitation_url(txn), {"accept": "1"}).status_code == 403
    assert _unchanged(txn)

    client.force_login(stranger)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_invitation_url(txn), {"accept": "1"}).status_code == 302
    txn.refresh_from_db()
    assert txn.buyer == stranger
    told = Notification.objects.get(kind="accepted", recipient=seller)
    assert stranger.full_name in told.body and stranger.email in told.body
    assert "batalkan transaksi sebelum dibayar" in told.body  # the seller reads Indonesian
    # …and nobody else can take it any more.
    late = UserFactory(email="telat@example.co.id")
    client.force_login(late)
    assert client.post(_invitation_url(txn), {"accept": "1"}).status_code == 302
    txn.refresh_from_db()
    assert txn.buyer == stranger


def test_phone_only_declining_follows_the_same_rule(client, seller, stranger):
    txn = scenarios.create(seller, buyer_phone="+6281298765432")
    client.force_login(UserFactory(email="belum@example.co.id", email_verified_at=None))
    client.post(_invitation_url(txn), {"decline": "1", "reason": "iseng"})
    assert _unchanged(txn)

    client.force_login(stranger)
    client.post(_invitation_url(txn), {"decline": "1", "reason": "Bukan barang yang saya cari"})
    txn.refresh_from_db()
    assert txn.status == Status.CANCELLED
    event = txn.events.get(action="cancel")
    assert event.actor == stranger and event.actor_role == TransactionEvent.Role.BUYER


# --- inviting -------------------------------------------------------------------------------

def test_an_unverified_seller_is_told_why_and_cannot_invite_by_email(client):
    seller = UserFactory(email="penjual.baru@example.co.id", email_verified_at=None)
    client.force_login(seller)

    page = client.get(CREATE)
    assert "is not verified yet" in page.content.decode()
    assert reverse("accounts:email_verification_resend") in page.content.decode()

    response = client.post(CREATE, CREATE_FORM)

    assert response.status_code == 200
    assert "Verify your email address before inviting a buyer by email" in response.content.decode()
    assert not EscrowTransaction.objects.exists()
    assert not mail.outbox and not Notification.objects.exists()


def test_a_verified_seller_sees_no_warning(client, seller):
    client.force_login(seller)
    assert "is not verified yet" not in client.get(CREATE).content.decode()


def test_invitations_per_account_per_wib_day_are_limited(client, seller, settings):
    settings.INTRASA_INVITATIONS_PER_DAY = 3
    client.force_login(seller)
    for n in range(3):
        assert client.post(CREATE, {**CREATE_FORM, "buyer_email": f"pembeli{n}@example.co.id"}).status_code == 302

    response = client.post(CREATE, {**CREATE_FORM, "buyer_email": "pembeli9@example.co.id"})

    assert response.status_code == 200
    assert "You have created 3 transactions today" in response.content.decode()
    assert EscrowTransaction.objects.count() == 3
    assert Notification.objects.filter(kind="invitation").count() == 3
    # Another seller has their own allowance…
    other = UserFactory(email="penjual.lain@example.co.id")
    scenarios.create(other, buyer_email="pembeli9@example.co.id")
    # …and a new WIB day brings a new one.
    EscrowTransaction.objects.filter(seller=seller).update(created_at=timezone.now() - dt.timedelta(days=1))
    assert client.post(CREATE, {**CREATE_FORM, "buyer_email": "pembeli9@example.co.id"}).status_code == 302


def test_the_default_daily_limit_is_twenty(seller):
    from django.conf import settings

    assert settings.INTRASA_INVITATIONS_PER_DAY == 20
    for n in range(20):
        scenarios.create(seller, buyer_email=f"p{n}@example.co.id")
    with pytest.raises(services.TransactionActionError) as refused:
        scenarios.create(seller, buyer_email="p20@example.co.id")
    assert refused.value.code == "daily_limit"


# --- email subjects -------------------------------------------------------------------------

def test_no_notification_subject_has_a_placeholder_for_user_written_text():
    for kind, (subject, _body) in MESSAGES.items():
        fields = {name for _text, name, _spec, _conv in string.Formatter().parse(str(subject)) if name}
        assert fields <= SUBJECT_FIELDS, (kind, fields - SUBJECT_FIELDS)


PHISHING = "URGENT bayar ke rek 123 http://intrasa-refund.example"


def test_a_sellers_text_never_reaches_an_email_subject(seller, buyer, django_capture_on_commit_callbacks):
    seller.full_name = PHISHING
    seller.save()
    with django_capture_on_commit_callbacks(execute=True):
        txn = scenarios.create(seller, buyer, title=PHISHING, description=PHISHING)
        txn = scenarios.advance(txn, buyer, Status.SHIPPED)
        services.transaction_confirm(escrow_transaction=txn, buyer=buyer)
    other = scenarios.create(seller, buyer, title=PHISHING)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_decline(escrow_transaction=other, user=buyer, reason=PHISHING)

    notifications = list(Notification.objects.all())
    assert {n.kind for n in notifications} >= {"invitation", "accepted", "declined", "shipped"}
    assert all("URGENT" not in n.subject for n in notifications)
    assert mail.outbox and all("URGENT" not in message.subject for message in mail.outbox)
    invitation = next(m for m in mail.outbox if m.to == [buyer.email] and txn.reference in m.subject)
    html = invitation.alternatives[0][0]
    assert "<title>" in html and "URGENT" not in html.split("<title>")[1].split("</title>")[0]
