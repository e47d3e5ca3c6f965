"""The header's unread badge counts only as far as it shows (``notifications.selectors``): "99+" past 99,
so what every logged-in page pays does not grow with someone's unread notifications; the notification
list still says the exact number."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from notifications.selectors import BADGE_COUNTS_UP_TO, unread_count, unread_count_for_badge
from notifications.templatetags.notification_badge import badge_count

pytestmark = pytest.mark.django_db


def _unread(user, how_many: int) -> None:
    Notification.objects.bulk_create(
        Notification(event_key=f"badge-{user.pk}-{n}", recipient=user, email=user.email, kind="confirmed_buyer",
                     subject=f"Subjek {n}", body="Isi") for n in range(how_many))


def test_the_badge_says_the_number_up_to_99_and_99_plus_past_it():
    assert [badge_count(n) for n in (1, 98, 99, 100, 5000)] == ["1", "98", "99", "99+", "99+"]
    assert BADGE_COUNTS_UP_TO == 99


def test_a_page_counts_unread_notifications_only_as_far_as_the_badge_shows(client, buyer):
    _unread(buyer, 150)
    assert unread_count(user=buyer) == 150
    assert unread_count_for_badge(user=buyer) == BADGE_COUNTS_UP_TO + 1
    client.force_login(buyer)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("transactions:dashboard"))
    assert page.status_code == 200
    assert 'data-testid="unread-count">99+<' in page.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1 and f"LIMIT {BADGE_COUNTS_UP_TO + 1}" in counts[0]
    assert "ORDER BY" not in counts[0]  # unsorted: the first hundred index entries, not every unread row sorted


def test_the_list_says_the_exact_number_and_the_badge_still_99_plus(client, buyer):
    _unread(buyer, 120)
    client.force_login(buyer)
    page = client.get(reverse("notifications:list"))
    html = page.content.decode()
    assert page.context["unread_notification_count"] == 120
    assert 'data-testid="unread-count">99+<' in html
    assert "120" in html.split('data-testid="unread-summary">', 1)[1].split("</p>", 1)[0]


def test_a_few_unread_are_counted_exactly(client, buyer):
    _unread(buyer, 3)
    client.force_login(buyer)
    assert 'data-testid="unread-count">3<' in client.get(reverse("transactions:dashboard")).content.decode()
