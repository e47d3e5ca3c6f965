"""Every refusal by a rate limit tells the client when it may try again: ``Retry-After`` is the time
left in the client's own window (the counter's time to live), not the whole window, and the minutes
in the message agree with it (rounded up: never too early).

Each case uses up one limit by writing its counter as if the window had opened long ago, with
``LEFT`` seconds to go, then asks once: 429, ``Retry-After`` of ``LEFT`` (one less if a second ticks
over), and "3 menit" in the words of the answer where it has words (Bahasa Indonesia, the default).
"""
import math

import pytest
from django.core.cache import cache, caches
from django.urls import reverse

from intrasa import ratelimit
from intrasa.cache import redis_client
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db

LEFT = 125  # seconds: 2 min 5 s, said as 3 minutes
IP = "127.0.0.1"  # the test client's REMOTE_ADDR


def use_up(limit: ratelimit.RateLimit, *parts: str, left: int = LEFT) -> None:
    cache.set(limit._key(parts), limit.limit, timeout=left)


def assert_says_time_left(response, limit: ratelimit.RateLimit, *parts: str, words=True):
    """429 with a ``Retry-After`` that is not earlier than the window's end (the counter's time to live
    read after the answer, in milliseconds) and not later than ``LEFT``: true however long the request
    took, on any machine."""
    assert response.status_code == 429
    backend = caches["default"]
    left_ms = redis_client(backend).pttl(backend.make_and_validate_key(limit._key(parts)))
    assert math.ceil(left_ms / 1000) <= int(response["Retry-After"]) <= LEFT, (response["Retry-After"], left_ms)
    if words:
        assert "3 menit" in response.content.decode()


def test_cek_transaksi_page_json_and_payment_check_over_the_lookup_budget(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    use_up(ratelimit.PUBLIC_LOOKUPS, IP)
    for path, query in ((reverse("pages:check_transaction"), {"reference": txn.reference}),
                        (reverse("pages:check_transaction_api", args=[txn.reference]), {}),
                        (reverse("pages:check_payment"), {"code": txn.reference})):
        assert_says_time_left(client.get(path, query), ratelimit.PUBLIC_LOOKUPS, IP)


def test_cek_transaksi_after_too_many_unknown_references(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    use_up(ratelimit.PUBLIC_UNKNOWN, IP)
    for path, query in ((reverse("pages:check_transaction"), {"reference": txn.reference}),
                        (reverse("pages:check_transaction_api", args=[txn.reference]), {})):
        assert_says_time_left(client.get(path, query), ratelimit.PUBLIC_UNKNOWN, IP)


def test_payment_link_page_and_its_qr_code(client, seller):
    from tests.paylinks.test_payment_links import make_link

    link = make_link(seller)
    use_up(ratelimit.PAYLINK_QR_IMAGES, IP)
    assert_says_time_left(client.get(reverse("paylinks:qr_png", args=[link.token])), ratelimit.PAYLINK_QR_IMAGES, IP)
    use_up(ratelimit.PUBLIC_UNKNOWN, IP)
    assert_says_time_left(client.get(link.get_absolute_url()), ratelimit.PUBLIC_UNKNOWN, IP)


def test_a_transaction_document(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    use_up(ratelimit.DOCUMENT_RENDERS, str(buyer.pk))
    client.force_login(buyer)
    refused = client.get(reverse("documents:download", kwargs={"reference": txn.reference, "kind": "kuitansi"}))
    assert_says_time_left(refused, ratelimit.DOCUMENT_RENDERS, str(buyer.pk))


def test_a_milestone_plan_document(client, seller, buyer):
    from milestones import services as milestone_services
    from tests.milestones.conftest import propose

    plan = propose(seller, buyer)
    milestone_services.milestone_plan_accept(plan=plan, buyer=buyer)
    use_up(ratelimit.DOCUMENT_RENDERS, str(buyer.pk))
    client.force_login(buyer)
    assert_says_time_left(client.get(reverse("milestones:pdf", args=[plan.token])), ratelimit.DOCUMENT_RENDERS,
                          str(buyer.pk))


def test_the_partner_api_after_too_many_wrong_keys(client):
    use_up(ratelimit.PARTNER_API_BAD_KEYS, IP)
    refused = client.get("/api/v1/transactions", HTTP_AUTHORIZATION="Bearer " + "k" * 60)
    assert_says_time_left(refused, ratelimit.PARTNER_API_BAD_KEYS, IP, words=False)  # the message names Retry-After


def test_sign_up_attempts(client):
    use_up(ratelimit.SIGNUP, IP)
    refused = client.post(reverse("accounts:signup"), {
        "full_name": "Orang Baru", "email": "baru@example.co.id", "phone": "0812 3456 0001",
        "password1": "kopi-tubruk-pagi-hari", "password2": "kopi-tubruk-pagi-hari"})
    assert_says_time_left(refused, ratelimit.SIGNUP, IP)


def test_a_window_that_ended_since_the_refusal_says_try_again_now():
    """No counter any more when the time left is read: its window ended a moment ago."""
    assert ratelimit.PUBLIC_LOOKUPS.seconds_left("10.9.9.9") == 1


def test_another_cache_backend_says_the_whole_window(settings):
    """A backend that cannot tell the time left (local memory, ``make run`` without Redis): the
    upper bound."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ratelimit.PUBLIC_LOOKUPS.seconds_left("10.9.9.9") == ratelimit.PUBLIC_LOOKUPS.window


@pytest.mark.parametrize(("seconds", "minutes"), [(1, 1), (59, 1), (60, 1), (61, 2), (125, 3), (3600, 60)])
def test_minutes_to_wait_round_up(seconds, minutes):
    assert ratelimit.minutes_to_wait(seconds) == minutes


def test_every_limit_that_answers_429_is_covered_here():
    """A new limit that refuses with 429 must say its time left too: add its case above."""
    covered = {ratelimit.PUBLIC_LOOKUPS, ratelimit.PUBLIC_UNKNOWN, ratelimit.PAYLINK_QR_IMAGES,
               ratelimit.DOCUMENT_RENDERS, ratelimit.PARTNER_API_BAD_KEYS, ratelimit.SIGNUP,
               ratelimit.PARTNER_API}  # PARTNER_API: clock-aligned, exact already (tests/partners)
    # Not refusals with 429: password resets answer as if sent, the verification email says "a moment".
    quiet = {ratelimit.PASSWORD_RESET_PER_IP, ratelimit.PASSWORD_RESET_PER_ACCOUNT, ratelimit.VERIFICATION_EMAIL}
    declared = {value for value in vars(ratelimit).values() if isinstance(value, ratelimit.RateLimit)}
    assert declared == covered | quiet
