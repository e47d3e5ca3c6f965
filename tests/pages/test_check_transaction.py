"""Cek Transaksi: status by reference number, no personal data, typo vs unknown, rate limits."""
import json

import pytest
from django.urls import reverse

from accounts.models import PayoutDestination
from escrow.services import escrow_cancel_and_refund
from intrasa import ratelimit as throttle
from tests import scenarios
from tests.factories import BankDestinationFactory
from transactions.models import Status
from transactions.references import check_character, format_reference

pytestmark = pytest.mark.django_db

PAGE = reverse("pages:check_transaction")


def api(reference):
    return reverse("pages:check_transaction_api", args=[reference])


def unknown_reference(n: int = 0) -> str:
    """A reference with a valid check character that no transaction has."""
    body = f"{n:011d}".replace("0", "A")[:11]
    return format_reference("INT" + body + check_character(body))


def mistype(reference: str) -> str:
    """Change one character: the check character catches it."""
    chars = list(reference)
    chars[5] = "2" if chars[5] != "2" else "3"
    return "".join(chars)


@pytest.fixture
def shipped(seller, buyer):
    # Distinctive names, so that every part of them can be searched for in the output.
    seller.full_name, seller.phone = "Sari Wulandari", "+6281211112222"
    seller.save()
    buyer.full_name, buyer.phone = "Budi Hartono", "+6281333334444"
    buyer.save()
    BankDestinationFactory(owner=seller, account_number="7771234567", account_holder_name=seller.full_name)
    txn = scenarios.create(seller, buyer, title="Jual kamera milik Sari di Jl. Melati 5")
    return scenarios.advance(txn, buyer, Status.SHIPPED)


def personal_data(txn):
    seller, buyer = txn.seller, txn.buyer
    values = [seller.full_name, seller.email, seller.phone, buyer.full_name, buyer.email, buyer.phone,
              txn.title, txn.description, txn.tracking_number, "7771234567", "Melati"]
    values += [part for name in (seller.full_name, buyer.full_name) for part in name.split()]
    values += list(PayoutDestination.objects.values_list("account_number", flat=True))
    return [v for v in values if v]


def test_page_shows_status_timeline_amount_and_next_deadline(client, shipped):
    response = client.get(PAGE, {"reference": shipped.reference})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="public-transaction"' in html
    assert shipped.reference in html
    assert "Rp\xa01.290.000" in html  # 1.250.000 + 25.000 shipping + the 15.000 fee, paid by the buyer
    assert 'data-testid="payment-verified">' in html
    assert html.count("WIB") >= 5  # created, accepted, paid, verified, shipped (+ the deadline)
    assert "noindex" in html
    lookup = response.context["lookup"]
    t = lookup.transaction
    assert (t.status, t.payment_received, t.payment_verified) == (Status.SHIPPED, True, True)
    assert [s.step for s in t.timeline] == ["created", "accepted", "mark_paid", "verify", "ship"]
    assert t.next_due.step == "confirm" and t.next_due.at == shipped.inspection_ends_at


def test_reference_is_read_loosely(client, shipped):
    sloppy = shipped.reference.replace("-", "").lower()
    response = client.get(PAGE, {"reference": sloppy})
    assert response.context["lookup"].outcome == "found"


def test_no_personal_data_in_the_page_or_the_json(client, shipped):
    html = client.get(PAGE, {"reference": shipped.reference}).content.decode()
    body = client.get(api(shipped.reference)).content.decode()
    for value in personal_data(shipped):
        assert value not in html, value
        assert value not in body, value


def test_the_public_view_has_no_field_for_personal_data(client, shipped):
    from dataclasses import fields

    from pages.selectors import PublicStep, PublicTransaction

    names = {f.name for f in fields(PublicTransaction)} | {f.name for f in fields(PublicStep)}
    assert not names & {"seller", "buyer", "title", "description", "buyer_email", "buyer_phone", "reason",
                        "actor", "tracking_number"}


def test_json_for_integrators(client, shipped):
    response = client.get(api(shipped.reference))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["reference"] == shipped.reference
    assert data["status"] == "shipped" and data["status_label"]
    assert data["amount"] == 1_290_000 and data["currency"] == "IDR"
    assert data["payment_received"] is True and data["payment_verified"] is True
    assert [s["step"] for s in data["timeline"]] == ["created", "accepted", "mark_paid", "verify", "ship"]
    assert all(s["at"].endswith("+07:00") for s in data["timeline"])
    assert data["next_due"]["step"] == "confirm" and data["next_due"]["at"].endswith("+07:00")


@pytest.mark.parametrize("state,step", [
    (Status.CREATED, "pay"), (Status.PAID, None), (Status.VERIFIED, "ship"), (Status.CONFIRMED, "payout"),
])
def test_next_due_follows_the_state(client, seller, buyer, state, step):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, state)
    data = client.get(api(txn.reference)).json()
    assert (data["next_due"] or {}).get("step") == step
    if state == Status.PAID:
        assert data["payment_received"] is True and data["payment_verified"] is False


def test_an_invitation_nobody_accepted_is_due_to_be_accepted(client, seller):
    txn = scenarios.create(seller)
    data = client.get(api(txn.reference), HTTP_ACCEPT_LANGUAGE="en").json()
    assert data["next_due"]["step"] == "accept"
    assert data["payment_received"] is False
    # It waits for the buyer to accept, not for a payment nobody can make yet (issue 17).
    assert data["status_label"] == "Awaiting the buyer's acceptance"
    html = client.get(reverse("pages:check_transaction"), {"reference": txn.reference}).content.decode()
    assert "Menunggu persetujuan pembeli" in html and "Menunggu pembayaran" not in html


def test_a_refunded_transaction_shows_when_the_refund_is_due(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    # The seller's cancellation after payment, as the site does it: the refund request carries the money
    # (its steps make the date: tests/refunds/test_refund_by.py).
    escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    data = client.get(api(txn.reference)).json()
    assert data["status"] == "refunded" and data["closed"] is True
    assert data["next_due"]["step"] == "refund"
    assert "Stok habis" not in json.dumps(data)  # the reason is private


def test_typo_and_unknown_get_different_clear_answers(client, shipped, settings):
    typo = client.get(PAGE, {"reference": mistype(shipped.reference)}, HTTP_ACCEPT_LANGUAGE="en")
    unknown = client.get(PAGE, {"reference": unknown_reference()}, HTTP_ACCEPT_LANGUAGE="en")
    garbage = client.get(PAGE, {"reference": "hello"}, HTTP_ACCEPT_LANGUAGE="en")
    assert typo.context["lookup"].outcome == "mistyped"
    assert 'data-testid="outcome-mistyped"' in typo.content.decode()
    assert "typing error" in typo.content.decode()
    assert unknown.context["lookup"].outcome == "unknown"
    assert 'data-testid="outcome-unknown"' in unknown.content.decode()
    assert garbage.context["lookup"].outcome == "malformed"
    assert client.get(api(mistype(shipped.reference))).json()["error"] == "mistyped_reference"
    response = client.get(api(unknown_reference()))
    assert response.status_code == 404 and response.json()["error"] == "unknown_reference"
    assert client.get(api("hello")).status_code == 400


def test_constant_number_of_queries(client, seller, buyer, django_assert_max_num_queries):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    with django_assert_max_num_queries(4):
        assert client.get(PAGE, {"reference": txn.reference}).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(api(txn.reference)).status_code == 200


def test_lookups_are_limited_per_ip(client, shipped):
    assert throttle.PUBLIC_LOOKUPS.limit == 20 and throttle.PUBLIC_LOOKUPS.window == 600  # documented in the README
    for _ in range(throttle.PUBLIC_LOOKUPS.limit):
        assert client.get(PAGE, {"reference": shipped.reference}).status_code == 200
    refused = client.get(PAGE, {"reference": shipped.reference}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429
    assert "Too many look-ups" in refused.content.decode()
    assert 595 <= int(refused["Retry-After"]) <= 600  # the time left in the window
    assert client.get(api(shipped.reference)).status_code == 429  # one budget for page and API
    # Another address is not affected.
    assert client.get(PAGE, {"reference": shipped.reference}, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_empty_form_costs_nothing(client):
    for _ in range(throttle.PUBLIC_LOOKUPS.limit + 5):
        assert client.get(PAGE).status_code == 200


def test_guessing_references_is_stopped_sooner_and_then_nothing_is_answered(client, shipped):
    assert throttle.PUBLIC_UNKNOWN.limit == 10 and throttle.PUBLIC_UNKNOWN.window == 3600
    for n in range(throttle.PUBLIC_UNKNOWN.limit):
        assert client.get(api(unknown_reference(n))).status_code == 404
    # Past the budget even a real reference is refused: a lucky guess is not answered.
    response = client.get(api(shipped.reference))
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert client.get(PAGE, {"reference": shipped.reference}).status_code == 429


def test_typos_do_not_count_as_guesses(client, shipped):
    for _ in range(throttle.PUBLIC_UNKNOWN.limit + 2):
        assert client.get(api(mistype(shipped.reference))).status_code == 400
    assert client.get(api(shipped.reference)).status_code == 200


def test_the_counter_is_atomic_under_concurrency():
    """Threads hitting the same counter: exactly ``limit`` get through."""
    from concurrent.futures import ThreadPoolExecutor

    limit = throttle.RateLimit("concurrency-test", limit=15, window=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: limit.hit("203.0.113.7"), range(40)))
    assert results.count(True) == 15


@pytest.mark.parametrize("text", ["", "   ", "x" * 41, "INT-\x00ABC", " int-abcd-efgh-ijkl ", "INT-7K2M-9QXD-4RHT"])
def test_the_reference_is_judged_by_the_forms_own_field(text):
    """The page judges the reference without building the form (``valid_reference_text``): it must
    accept and clean exactly what the bound form would."""
    from django.http import QueryDict

    from pages.forms import ReferenceForm, valid_reference_text

    query = QueryDict(mutable=True)
    query["reference"] = text
    form = ReferenceForm(query)
    assert valid_reference_text(query) == (form.cleaned_data["reference"] if form.is_valid() else None)


@pytest.mark.parametrize("text", ["", "x" * 41])  # (a NUL byte is refused before any view: 400)
def test_a_refused_reference_shows_the_forms_error_and_counts_nothing(client, text):
    response = client.get(PAGE, {"reference": text}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert 'data-testid="outcome-' not in response.content.decode()
    for _ in range(throttle.PUBLIC_LOOKUPS.limit + 2):  # nothing counted: never refused
        assert client.get(PAGE, {"reference": text}).status_code == 200
