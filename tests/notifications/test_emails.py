"""Emails: sent from Celery after commit, never twice for one event, branded in both languages."""
import threading
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction

from notifications import tasks
from notifications.models import Notification
from notifications.services import notify
from tests import scenarios
from transactions import services
from transactions.models import Status

CONTEXT = {"reference": "INT-0000-0000-0000", "title": "Sepeda", "amount": "Rp 1.000.000", "seller": "Sari"}


@pytest.mark.django_db
def test_the_email_is_handed_to_celery_only_after_commit(buyer, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.send_notification_email, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notification = notify(event_key="after-commit", kind="confirmed_buyer", recipient=buyer,
                                  context=CONTEXT)
            assert not delay.called  # nothing leaves before the transaction commits
        assert len(callbacks) == 1
        callbacks[0]()
    delay.assert_called_once_with(notification.pk)  # a primary key, never the instance


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_event_sends_nothing(buyer, mailoutbox):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            notify(event_key="rolled-back", kind="confirmed_buyer", recipient=buyer, context=CONTEXT)
            raise RuntimeError("the service failed after notifying")
    assert not Notification.objects.filter(event_key="rolled-back").exists()
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_real_commit_then_celery_task_sends_once(buyer, mailoutbox):
    """With a real commit (no test transaction around it) the on_commit hook runs the eager task."""
    with transaction.atomic():
        notify(event_key="real-commit", kind="confirmed_buyer", recipient=buyer, context=CONTEXT)
        assert mailoutbox == []
    assert len(mailoutbox) == 1
    with transaction.atomic():
        notify(event_key="real-commit", kind="confirmed_buyer", recipient=buyer, context=CONTEXT)
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_service_that_runs_twice_notifies_once_per_event(seller, buyer, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_verify(escrow_transaction=txn, payment_reference="PAY-1",
                                    amount_received=txn.amount_due)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_verify(escrow_transaction=txn, payment_reference="PAY-1",
                                    amount_received=txn.amount_due)  # a repeated status inquiry
    verified = [m for m in mailoutbox if txn.reference in m.subject and "verif" in m.subject.lower()]
    assert sorted(m.to[0] for m in verified) == sorted([seller.email, buyer.email])


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_task_send_one_email(buyer, mailoutbox):
    """Redis may redeliver a task while the first worker still runs it: the row lock decides."""
    notification = Notification.objects.create(
        event_key="concurrent", kind="confirmed_buyer", recipient=buyer, email=buyer.email,
        subject="S", body="B", language="id")
    barrier = threading.Barrier(2)
    errors = []

    def deliver():
        try:
            barrier.wait()
            tasks.send_notification_email(notification.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["id", "en"])
def test_email_is_branded_with_reference_and_a_call_to_action(seller, buyer, mailoutbox, language, settings,
                                                              django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://intrasa.example"
    seller.preferred_language = language
    seller.save()
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_verify(escrow_transaction=txn, payment_reference="PAY-1",
                                    amount_received=txn.amount_due)
    message = next(m for m in mailoutbox if m.to == [seller.email])
    html = message.alternatives[0][0]
    text = message.body
    link = f"https://intrasa.example{txn.get_absolute_url()}"
    assert f'<html lang="{language}">' in html
    assert "INTRASA" in html and "#0b6e4f" in html  # the brand bar
    assert 'data-testid="cta"' in html and f'href="{link}"' in html
    assert txn.reference in html and txn.reference in text
    assert link in text
    assert f"https://intrasa.example/cek-transaksi/?reference={txn.reference}" in text
    assert "Rp 1.290.000" in text  # the amount of the message body
    assert "WIB" in text
    if language == "en":
        assert message.subject == f"Payment verified: please ship {txn.reference}"
        assert "Ship and enter the receipt number" in html
        assert "Hello Sari," in text


@pytest.mark.django_db
def test_an_invitation_email_without_an_account(seller, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        txn = scenarios.create(seller, buyer_email="baru@example.co.id")
    message = next(m for m in mailoutbox if m.to == ["baru@example.co.id"])
    assert txn.reference in message.body
    assert txn.invitation_token in message.body  # the link to review the invitation
    assert "Hello" not in message.body  # nobody to greet by name yet


def test_reference_in_finds_only_valid_references():
    from pages.templatetags.public_links import reference_in
    from transactions.references import generate_reference

    reference = generate_reference()
    assert reference_in(f"Transaksi {reference} dikirim") == reference
    broken = reference[:-1] + ("2" if reference[-1] != "2" else "3")
    assert reference_in(f"Transaksi {broken}") == ""
    assert reference_in("Konfirmasi email Anda") == ""


@pytest.mark.parametrize("language,greeting", [("id", "Halo"), ("en", "Hello")])
def test_the_verification_email_greets_once(mailoutbox, django_capture_on_commit_callbacks, language, greeting):
    from accounts.services import user_send_verification_email
    from tests.factories import UserFactory

    user = UserFactory(email_verified_at=None, preferred_language=language, full_name="Budi Santoso")
    with django_capture_on_commit_callbacks(execute=True):
        user_send_verification_email(user=user)
    (message,) = mailoutbox
    assert message.body.count(greeting) == 1 and f"{greeting} Budi," in message.body
    html = message.alternatives[0][0]
    assert html.count(greeting) == 1
