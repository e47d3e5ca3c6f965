"""Erasure and the addresses a person used before changing them: an invitation or a milestone plan
sent to a former email address or mobile number while it was theirs holds nothing of theirs but the
address, like one sent to their current address, and loses it the same way. One sent to that address
before or after it was theirs is someone else's (an address changes hands) and keeps it."""
import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts import services as account_services
from milestones.models import MilestonePlan
from notifications.models import Notification
from privacy import selectors, services
from privacy.models import ProfileChange
from tests import scenarios
from tests.factories import UserFactory
from tests.milestones.conftest import propose
from transactions import services as txn_services
from transactions.models import EscrowTransaction

pytestmark = pytest.mark.django_db

OLD_EMAIL, NEW_EMAIL = "budi@example.co.id", "budi.baru@example.co.id"
OLD_PHONE, NEW_PHONE = "+6281211112222", "+6281333334444"


def change_email(user, new_email):
    """Through the real flow: the request, then the link from the email opened while logged in."""
    change = services.email_change_request(user=user, new_email=new_email)
    link = Notification.objects.get(event_key=f"privacy:email_change:{change.pk}:verify").link
    token = link.rstrip("/").rsplit("/", 1)[-1]
    return services.email_change_confirm(user=user, token=token)


def change_phone(user, phone):
    return account_services.user_update_profile(user=user, full_name=user.full_name, phone=phone,
                                                preferred_language=user.preferred_language)


def closed_invitation(seller, **to):
    """An invitation nobody accepted, withdrawn by the seller."""
    txn = scenarios.create(seller, **to)
    return txn_services.transaction_cancel(escrow_transaction=txn, actor=seller, reason="Salah alamat")


def row(txn):
    return EscrowTransaction.objects.values_list("buyer_email", "buyer_phone").get(pk=txn.pk)


def plan_email(plan):
    return MilestonePlan.objects.get(pk=plan.pk).buyer_email


def test_invitations_and_plans_to_a_former_email_are_cleared_for_the_time_it_was_theirs(seller, buyer):
    assert buyer.email == OLD_EMAIL
    invited_then = closed_invitation(seller, buyer_email=OLD_EMAIL)
    open_then = scenarios.create(seller, buyer_email=OLD_EMAIL)
    plan_then = propose(seller, SimpleNamespace(email=OLD_EMAIL))
    change_email(buyer, NEW_EMAIL)
    assert ProfileChange.objects.filter(user=buyer, field="email", old_value=OLD_EMAIL).exists()
    # The old address now belongs to someone else, who is invited at it too.
    UserFactory(email=OLD_EMAIL, full_name="Budi Lain")
    invited_since = closed_invitation(seller, buyer_email=OLD_EMAIL)
    plan_since = propose(seller, SimpleNamespace(email=OLD_EMAIL))
    invited_now = closed_invitation(seller, buyer_email=NEW_EMAIL)

    services.account_erase(user=buyer)

    assert row(invited_then)[0] == ""
    assert plan_email(plan_then) == ""
    # Still open: emptied, anyone with its link could accept it (privacy.coverage).
    assert row(open_then)[0] == OLD_EMAIL
    # Sent after the address stopped being theirs: the other person's.
    assert row(invited_since)[0] == OLD_EMAIL
    assert plan_email(plan_since) == OLD_EMAIL
    # The current address, as before.
    assert row(invited_now)[0] == ""


def test_invitations_to_a_former_mobile_number_are_cleared_for_the_time_it_was_theirs(seller, buyer):
    change_phone(buyer, OLD_PHONE)
    invited_then = closed_invitation(seller, buyer_phone=OLD_PHONE)
    change_phone(buyer, NEW_PHONE)
    invited_since = closed_invitation(seller, buyer_phone=OLD_PHONE)
    invited_now = closed_invitation(seller, buyer_phone=NEW_PHONE)

    services.account_erase(user=buyer)

    assert row(invited_then)[1] == ""
    assert row(invited_since)[1] == OLD_PHONE
    assert row(invited_now)[1] == ""


def test_a_former_address_was_theirs_from_the_previous_change_or_from_joining(buyer):
    joined = buyer.date_joined
    first_phone = buyer.phone
    change_phone(buyer, OLD_PHONE)
    change_email(buyer, NEW_EMAIL)
    change_phone(buyer, NEW_PHONE)
    changes = {(change.field, change.old_value): change.changed_at
               for change in ProfileChange.objects.filter(user=buyer)}

    former = {(item.field, item.value): (item.since, item.until) for item in selectors.former_addresses(user=buyer)}

    assert former == {
        ("email", OLD_EMAIL): (joined, changes["email", OLD_EMAIL]),
        ("phone", first_phone): (joined, changes["phone", first_phone]),
        ("phone", OLD_PHONE): (changes["phone", first_phone], changes["phone", OLD_PHONE]),
    }


def test_an_invitation_from_before_the_person_joined_keeps_a_former_address(seller):
    """Before the account existed, nothing says the address was theirs."""
    before = closed_invitation(seller, buyer_email=OLD_EMAIL)
    EscrowTransaction.objects.filter(pk=before.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    person = UserFactory(email=OLD_EMAIL, full_name="Budi Pembeli")
    change_email(person, NEW_EMAIL)

    services.account_erase(user=person)

    assert row(before)[0] == OLD_EMAIL


def test_emails_sent_to_a_former_address_without_an_account_are_cleared_for_the_time_it_was_theirs(buyer):
    """An email to an address with no account behind it (an invitation to buy, before the person
    signed up with that address or after they changed to it) has no recipient to be found by."""
    def sent_to(address, key):
        return Notification.objects.create(event_key=key, kind="invitation", recipient=None, email=address,
                                           subject="Undangan dari Budi", body="Budi mengundang Anda", language="id")

    then = sent_to(OLD_EMAIL.upper(), "then")
    change_email(buyer, NEW_EMAIL)
    since = sent_to(OLD_EMAIL, "since")  # the old address is someone else's now

    services.account_erase(user=buyer)

    assert Notification.objects.values_list("email", "subject", "body").get(pk=then.pk) == ("", "", "")
    assert Notification.objects.values_list("email", "subject").get(pk=since.pk) == (OLD_EMAIL, "Undangan dari Budi")
