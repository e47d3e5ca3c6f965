"""The public pages answer HEAD as GET, without a body (link previews, crawlers, uptime monitors); a HEAD
look-up counts against the same budgets; other methods are still refused."""
import pytest
from django.urls import reverse

from intrasa import ratelimit
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db


def _public_paths(reference: str) -> list[str]:
    return [reverse("home"), reverse("health"), reverse("pages:fees"), reverse("pages:faq"),
            reverse("pages:refund_policy"), reverse("pages:check_transaction"),
            reverse("pages:check_transaction") + f"?reference={reference}",
            reverse("pages:check_transaction_api", args=[reference]),
            reverse("pages:check_payment"), reverse("pages:check_payment") + f"?code={reference}"]


def test_every_public_page_answers_head_like_get_without_a_body(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    for path in _public_paths(txn.reference):
        got, head = client.get(path), client.head(path)
        assert (path, got.status_code, head.status_code) == (path, 200, 200)
        assert head.content == b""
        assert head["Content-Type"] == got["Content-Type"]


def test_a_head_look_up_counts_against_the_budget(client, seller, buyer, monkeypatch):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    monkeypatch.setattr(ratelimit, "PUBLIC_LOOKUPS", ratelimit.RateLimit("public-lookups-head", limit=2, window=60))
    url = reverse("pages:check_transaction_api", args=[txn.reference])
    assert [client.head(url).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_are_still_refused(client, method):
    assert getattr(client, method)(reverse("pages:faq")).status_code == 405
