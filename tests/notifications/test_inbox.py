"""The in-app notification list: unread counts, opening one marks it read and follows its link."""
import pytest
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notify

pytestmark = pytest.mark.django_db


def make(user, key, link="/transaksi/"):
    return notify(event_key=key, kind="confirmed_buyer", recipient=user, link=link,
                  context={"reference": "INT-1", "title": f"Judul {key}", "amount": "Rp 1", "seller": "S"})


def test_list_shows_unread_first_class_and_count(client, buyer):
    first, second = make(buyer, "a"), make(buyer, "b")
    Notification.objects.filter(pk=first.pk).update(read_at="2026-01-01T00:00:00Z")
    client.force_login(buyer)
    response = client.get(reverse("notifications:list"))
    html = response.content.decode()
    assert response.context["unread_notification_count"] == 1
    assert html.count('class="unread"') == 1 and html.count('class="read"') == 1
    assert reverse("notifications:open", args=[second.pk]) in html
    assert 'data-testid="unread-count">1<' in html  # the header badge


def test_opening_marks_read_and_redirects_to_the_link(client, buyer):
    notification = make(buyer, "open", link="/transaksi/INT-XXXX/")
    client.force_login(buyer)
    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == "/transaksi/INT-XXXX/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert client.get(reverse("notifications:list")).context["unread_notification_count"] == 0


def test_absolute_links_on_our_site_are_followed(client, buyer, settings):
    settings.SITE_URL = "https://intrasa.example"
    notification = make(buyer, "absolute", link="https://intrasa.example/transaksi/")
    client.force_login(buyer)
    assert client.get(reverse("notifications:open", args=[notification.pk]))["Location"] == "/transaksi/"


@pytest.mark.parametrize("link", ["https://evil.example/phish", "//evil.example/x", "", "javascript:alert(1)"])
def test_foreign_or_missing_links_lead_back_to_the_list(client, buyer, link):
    notification = make(buyer, f"bad-{link}", link=link)
    client.force_login(buyer)
    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response["Location"] == reverse("notifications:list")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_someone_elses_notification_is_404_and_stays_unread(client, buyer, seller):
    notification = make(buyer, "private")
    client.force_login(seller)
    assert client.get(reverse("notifications:open", args=[notification.pk])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_opening_needs_a_login(client, buyer):
    notification = make(buyer, "anon")
    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]


def test_mark_all_read(client, buyer):
    make(buyer, "x"), make(buyer, "y")
    client.force_login(buyer)
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(recipient=buyer, read_at__isnull=True).exists()
