"""Every refusal by a rate limit tells the client when it may try again: ``Retry-After`` is the time
left in the client's own window (the counter's time to live), not the whole window, and the minutes
in the message agree with it (rounded up: never too early).

Each case uses up one limit by writing its counter as if the window had opened long ago, with
``LEFT`` seconds to go, then asks once: 429, ``Retry-After`` of ``LEFT`` (one less if a second ticks
over), and "3 menit" in the words of the answer where it has words (Bahasa Indonesia, the default).
"""
import pytest
from django.core.cache import cache
from django.urls import reverse

from intrasa import ratelimit
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db

LEFT = 125  # seconds: 2 min 5 s, said as 3 minutes
IP = "127.0.0.1"  # the test client's REMOTE_ADDR


def use_up(limit: ratelimit.RateLimit, *parts: str, left: int = LEFT) -> None:
    cache.set(limit._key(parts), limit.limit, timeout=left)


def assert_says_time_left(response, *, words=True):
    assert response.status_code == 429
    assert LEFT - 1 <= int(response["Retry-After"]) <= LEFT
    if words:
        assert "3 menit" in response.content.decode()


def test_cek_transaksi_page_json_and_payment_check_over_the_lookup_budget(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    use_up(ratelimit.PUBLIC_LOOKUPS, IP)
    assert_says_time_left(client.get(reverse("pages:check_transaction"), {"reference": txn.reference}))
    assert_says_time_left(client.get(reverse("pages:check_transaction_api", args=[txn.reference])))
    assert_says_time_left(client.get(reverse("pages:check_payment"), {"code": txn.reference}))


def test_cek_transaksi_after_too_many_unknown_references(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    use_up(ratelimit.PUBLIC_UNKNOWN, IP)
    assert_says_time_left(client.get(reverse("pages:check_transaction"), {"reference": txn.reference}))
    assert_says_time_left(client.get(reverse("pages:check_transaction_api", args=[txn.reference])))


def test_payment_link_page_and_its_qr_code(client, seller):
    from tests.paylinks.test_payment_links import make_link

    link = make_link(seller)
    use_up(ratelimit.PAYLINK_QR_IMAGES, IP)
    assert_says_time_left(client.get(reverse("paylinks:qr_png", args=[link.token])))
    use_up(ratelimit.PUBLIC_UNKNOWN, IP)
    assert_says_time_left(client.get(link.get_absolute_url()))


def test_a_transaction_document(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    use_up(ratelimit.DOCUMENT_RENDERS, str(buyer.pk))
    client.force_login(buyer)
    refused = client.get(reverse("documents:download", kwargs={"reference": txn.reference, "kind": "kuitansi"}))
    assert_says_time_left(refused)


def test_a_milestone_plan_document(client, seller, buyer):
    from milestones import services as milestone_services
    from tests.milestones.conftest import propose

    plan = propose(seller, buyer)
    milestone_services.milestone_plan_accept(plan=plan, buyer=buyer)
    use_up(ratelimit.DOCUMENT_RENDERS, str(buyer.pk))
    client.force_login(buyer)
    assert_says_time_left(client.get(reverse("milestones:pdf", args=[plan.token])))


def test_the_partner_api_after_too_many_wrong_keys(client):
    use_up(ratelimit.PARTNER_API_BAD_KEYS, IP)
    refused = client.get("/api/v1/transactions", HTTP_AUTHORIZATION="Bearer " + "k" * 60)
    assert_says_time_left(refused, words=False)  # the message points at Retry-After itself


def test_sign_up_attempts(client):
    use_up(ratelimit.SIGNUP, IP)
    refused = client.post(reverse("accounts:signup"), {
        "full_name": "Orang Baru", "email": "baru@example.co.id", "phone": "0812 3456 0001",
        "password1": "kopi-tubruk-pagi-hari", "password2": "kopi-tubruk-pagi-hari"})
    assert_says_time_left(refused)


def test_without_a_window_the_whole_window_is_said():
    """No counter (or a backend that cannot tell): the upper bound, the whole window."""
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
