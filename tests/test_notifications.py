"""One notification per event: email after commit, at most once, in the recipient's language."""
import pytest
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notify
from notifications.tasks import send_notification_email, send_pending_emails

pytestmark = pytest.mark.django_db


def test_email_is_sent_after_commit_and_only_once(buyer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(event_key="e1", kind="confirmed_buyer", recipient=buyer,
                       context={"reference": "INT-1", "title": "Sepeda", "amount": "Rp 1", "seller": "S"})
        again = notify(event_key="e1", kind="confirmed_buyer", recipient=buyer,
                       context={"reference": "INT-1", "title": "Sepeda", "amount": "Rp 1", "seller": "S"})
    assert first.pk == again.pk
    assert len(mailoutbox) == 1
    send_notification_email(first.pk)  # the task delivered twice
    send_pending_emails()
    assert len(mailoutbox) == 1
    first.refresh_from_db()
    assert first.email_sent_at is not None


def test_email_is_written_in_the_recipients_language(buyer, mailoutbox, django_capture_on_commit_callbacks):
    buyer.preferred_language = "en"
    buyer.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(event_key="e2", kind="confirmed_buyer", recipient=buyer,
               context={"reference": "INT-2", "title": "Sepeda", "amount": "Rp 1", "seller": "S"})
    assert mailoutbox[0].subject == "You confirmed INT-2"
    assert mailoutbox[0].alternatives  # plain text and HTML


def test_pending_emails_are_picked_up_when_the_broker_lost_them(buyer, mailoutbox):
    notification = notify(event_key="e3", kind="confirmed_buyer", recipient=buyer,
                          context={"reference": "INT-3", "title": "T", "amount": "Rp 1", "seller": "S"})
    Notification.objects.filter(pk=notification.pk).update(created_at="2020-01-01T00:00:00Z")
    assert send_pending_emails() == 1
    assert len(mailoutbox) == 1


def test_notification_list_and_unread_count(client, buyer):
    for n in range(3):
        notify(event_key=f"n{n}", kind="confirmed_buyer", recipient=buyer,
               context={"reference": f"INT-{n}", "title": "T", "amount": "Rp 1", "seller": "S"})
    client.force_login(buyer)
    page = client.get(reverse("notifications:list"))
    assert page.context["unread_notification_count"] == 3
    client.post(reverse("notifications:read_all"))
    assert client.get(reverse("notifications:list")).context["unread_notification_count"] == 0


def test_someone_elses_notifications_are_not_listed(client, buyer, seller):
    notify(event_key="private", kind="confirmed_buyer", recipient=buyer,
           context={"reference": "INT-9", "title": "Rahasia", "amount": "Rp 1", "seller": "S"})
    client.force_login(seller)
    assert "Rahasia" not in client.get(reverse("notifications:list")).content.decode()
