"""Cek Transaksi's kept page (pages.page_memo): rendered once for the visitors who would all see it
the same, never stale, never someone else's, and each visitor with their own CSRF token."""
import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from pages import page_memo
from tests import scenarios
from transactions import services
from transactions.models import Status
from workdays.models import CalendarOverride

pytestmark = pytest.mark.django_db
PAGE = reverse("pages:check_transaction")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _no_kept_pages():
    page_memo.forget_all()
    yield
    page_memo.forget_all()


@pytest.fixture
def verified(seller, buyer):
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)


def look_up(client, reference, **extra):
    response = client.get(PAGE, {"reference": reference}, **extra)
    assert response.status_code == 200
    return response


def kept(response) -> bool:
    """Served from a kept page: no template was rendered for it."""
    return not response.templates


def warm(client, reference):
    """Look up until the page is kept; returns the last response rendered from templates. (The
    first look-up reads the facts from the database and may also load the working-day calendar,
    which then keys the page: a page is kept once the calendar is cached.)"""
    rendered = None
    for _ in range(3):
        response = look_up(client, reference)
        if kept(response):
            return rendered
        rendered = response
    return rendered


def test_the_third_visitor_gets_the_very_page_that_was_rendered_with_no_token_to_share(verified):
    """A visitor's kept page holds nothing of any visitor: no CSRF token (the only form that had one,
    the language switch, asks members only) and no CSRF cookie; the switch still works."""
    second = warm(Client(), verified.reference)
    visitor = Client(enforce_csrf_checks=True)
    third = look_up(visitor, verified.reference)
    assert kept(third)
    assert third.content == second.content
    assert page_memo._CSRF_MARK not in third.content.decode() and not TOKEN.search(third.content.decode())
    assert "csrftoken" not in third.cookies
    switched = visitor.post(reverse("accounts:set_language"), {"language": "en", "next": PAGE})
    assert switched.status_code == 302


def test_a_transition_is_shown_at_once(verified, seller):
    client = Client()
    warm(client, verified.reference)
    assert kept(look_up(client, verified.reference))
    services.transaction_ship(escrow_transaction=verified, seller=seller, courier="jne",
                              tracking_number="JNE0012345678")
    after = look_up(client, verified.reference)
    assert not kept(after)
    assert after.context["lookup"].transaction.status == Status.SHIPPED
    assert 'data-testid="status">' in after.content.decode()
    again = look_up(client, verified.reference)  # the new facts' page, now kept
    assert kept(again) and "status-shipped" in again.content.decode()


def test_a_calendar_change_moves_the_kept_deadline(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    client = Client()
    first = warm(client, txn.reference)
    assert kept(look_up(client, txn.reference))
    due = first.context["lookup"].transaction.next_due.at
    last_working_day = (due - dt.timedelta(microseconds=1)).date()  # the day the 24 working hours end in
    CalendarOverride.objects.create(date=last_working_day, kind=CalendarOverride.Kind.HOLIDAY, name="Libur mendadak")
    # The override dropped the cached calendar: this look-up renders from the database's calendar …
    after = look_up(client, txn.reference)
    assert not kept(after) and after.context["lookup"].transaction.next_due.at > due
    # … and the next one, with the new calendar cached, is a new page, which is then kept.
    again = look_up(client, txn.reference)
    assert not kept(again) and again.context["lookup"].transaction.next_due.at > due
    moved = look_up(client, txn.reference)
    assert kept(moved)
    assert TOKEN.sub("", moved.content.decode()) == TOKEN.sub("", again.content.decode())


def test_every_language_has_its_own_page(verified):
    client = Client()
    warm(client, verified.reference)
    indonesian = look_up(client, verified.reference)
    english = look_up(client, verified.reference, HTTP_ACCEPT_LANGUAGE="en")
    assert kept(indonesian)
    assert 'lang="id"' in indonesian.content.decode()
    assert 'lang="en"' in english.content.decode() and 'lang="id"' not in english.content.decode()


def test_a_logged_in_visitor_is_never_served_a_kept_page(verified, seller):
    warm(Client(), verified.reference)
    assert kept(look_up(Client(), verified.reference))
    client = Client()
    client.force_login(seller)
    response = look_up(client, verified.reference)
    assert not kept(response)
    assert reverse("accounts:logout") in response.content.decode()


def test_a_waiting_message_is_shown_not_kept_away(verified, client):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    warm(client, verified.reference)
    assert kept(look_up(client, verified.reference))
    # A message waiting in the visitor's cookie (as a redirect after a form leaves it).
    storage = CookieStorage(RequestFactory().get("/"))
    carrier = HttpResponse()
    storage._store([Message(constants.INFO, "Pesan untuk pengunjung ini")], carrier)
    client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value
    response = look_up(client, verified.reference)
    assert not kept(response)
    assert "Pesan untuk pengunjung ini" in response.content.decode()


def test_a_milestone_page_is_never_kept(seller, buyer, client):
    """Its plan's other milestones are read on every look-up: a neighbour's change shows at once."""
    from milestones import services as milestone_services
    from tests.milestones.conftest import propose

    plan = propose(seller, buyer, schedule="upfront", amounts=(1_000_000, 2_000_000))
    milestone_services.milestone_plan_accept(plan=plan, buyer=buyer)
    first, second = [m.escrow_transaction for m in plan.milestones.select_related("escrow_transaction")
                     .order_by("position")]
    for _ in range(3):
        response = look_up(client, second.reference)
        assert not kept(response) and 'data-testid="public-plan"' in response.content.decode()
    scenarios.pay_by_transfer(first, buyer)  # the plan's one bill: both milestones are paid
    assert "status-verified" in look_up(client, second.reference).content.decode()


def test_the_kept_pages_are_bounded_and_expire(verified, monkeypatch):
    monkeypatch.setattr(page_memo, "ENTRIES", 1)
    client = Client()
    warm(client, verified.reference)
    assert kept(look_up(client, verified.reference))
    assert not kept(look_up(client, verified.reference, HTTP_ACCEPT_LANGUAGE="en"))  # a second page: the first is dropped
    assert not kept(look_up(client, verified.reference))
    assert kept(look_up(client, verified.reference))
    clock = [page_memo.time.monotonic()]
    monkeypatch.setattr(page_memo.time, "monotonic", lambda: clock[0])
    page_memo.forget_all()
    look_up(client, verified.reference)
    assert kept(look_up(client, verified.reference))
    clock[0] += page_memo.FACTS_SECONDS + 1
    assert not kept(look_up(client, verified.reference))


def test_a_settings_change_drops_the_kept_pages(verified, settings):
    client = Client()
    warm(client, verified.reference)
    assert kept(look_up(client, verified.reference))
    settings.PUBLIC_LOOKUP_LIMIT = 7
    assert not kept(look_up(client, verified.reference))


def test_a_kept_page_is_per_path_and_shows_the_visitors_own_path_escaped(verified):
    """The path is part of the key: the form's value and the language switch's ``next`` field are the
    visitor's own, never the path of whoever was served first, and markup in a query stays text."""
    client = Client()
    warm(client, verified.reference)
    assert kept(look_up(client, verified.reference))
    crafted = f"{PAGE}?reference={verified.reference.lower()}&utm=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"
    for _ in range(2):
        response = client.get(crafted)
        body = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert(1)" not in body
        assert f'value="{verified.reference.lower()}"' in body  # the form shows what this visitor typed
        next_field = re.search(r'name="next" type="hidden" value="([^"]*)"', body)[1]
        assert "utm=%22%3E%3Cscript%3Ealert(1)%3C/script%3E" in next_field
    assert kept(response)
    plain = look_up(client, verified.reference)
    assert kept(plain) and "utm=" not in plain.content.decode()


def test_the_json_api_is_kept_from_the_same_facts_and_changes_with_them(verified, seller):
    """The JSON body is kept like the page (``page_memo.kept_json``): served again for the same facts,
    calendar and language, and a transition's new facts are a new body at once."""
    client = Client()
    url = reverse("pages:check_transaction_api", args=[verified.reference])
    first = client.get(url).json()
    client.get(url)
    bodies = [key for key in page_memo._pages if key[0] == "json"]
    assert len(bodies) == 1 and client.get(url).json() == first
    services.transaction_ship(escrow_transaction=verified, seller=seller, courier="jne",
                              tracking_number="JNE0012345678")
    after = client.get(url).json()
    assert after["status"] == Status.SHIPPED and first["status"] == Status.VERIFIED
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["status"] == Status.SHIPPED
    assert len([key for key in page_memo._pages if key[0] == "json"]) >= 2
