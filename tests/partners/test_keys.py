"""API keys: hashed at rest, shown once, scoped, revocable, rotatable with a grace period."""
import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from partners import services
from partners.models import SCOPE_TRANSACTIONS_READ, ApiKey


def get(client, raw_key, path="/api/v1/transactions"):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw_key}")


def test_the_key_is_stored_only_as_a_digest(setup):
    stored = ApiKey.objects.get(pk=setup.key.pk)
    prefix, secret = setup.raw_key.removeprefix("intrasa_").split("_", 1)
    assert stored.prefix == prefix
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiKey.objects.filter(pk=stored.pk).values().get())
    assert AuditEntry.objects.filter(action="partner.api_key_issue", object_id=str(setup.partner.pk)).exists()


def test_a_valid_key_opens_the_api_and_a_wrong_one_does_not(client, setup):
    assert get(client, setup.raw_key).status_code == 200
    wrong = setup.raw_key[:-3] + ("aaa" if not setup.raw_key.endswith("aaa") else "bbb")
    for raw in (wrong, "intrasa_nope_nope", "Basic abc", ""):
        response = get(client, raw)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/transactions").status_code == 401


def test_a_key_without_the_scope_is_refused(client, setup):
    _key, raw = services.api_key_issue(partner=setup.partner, actor=setup.staff, reason="baca saja",
                                       scopes=[SCOPE_TRANSACTIONS_READ])
    assert get(client, raw).status_code == 200
    response = client.post("/api/v1/transactions", data="{}", content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert get(client, raw, "/api/v1/webhooks/events").status_code == 403


def test_unknown_scopes_cannot_be_issued(setup):
    with pytest.raises(services.PartnerError) as refused:
        services.api_key_issue(partner=setup.partner, actor=setup.staff, reason="x", scopes=["money:move"])
    assert refused.value.code == "invalid_scope"


def test_a_revoked_key_stops_at_once(client, setup):
    services.api_key_revoke(api_key=setup.key, actor=setup.staff, reason="bocor di repo publik")
    assert get(client, setup.raw_key).status_code == 401
    assert AuditEntry.objects.filter(action="partner.api_key_revoke", reason="bocor di repo publik").exists()


def test_rotation_gives_a_new_key_and_the_old_one_works_only_for_the_grace_period(client, setup, settings):
    new_key, new_raw = services.api_key_rotate(api_key=setup.key, actor=setup.staff, reason="rotasi berkala")
    assert new_raw != setup.raw_key and new_key.scopes == setup.key.scopes
    assert get(client, new_raw).status_code == 200
    assert get(client, setup.raw_key).status_code == 200  # still within the grace period
    old = ApiKey.objects.get(pk=setup.key.pk)
    assert old.expires_at - timezone.now() <= dt.timedelta(hours=settings.PARTNER_KEY_ROTATION_GRACE_HOURS)
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert get(client, setup.raw_key).status_code == 401
    assert get(client, new_raw).status_code == 200


def test_a_revoked_key_cannot_be_rotated(setup):
    services.api_key_revoke(api_key=setup.key, actor=setup.staff, reason="x")
    with pytest.raises(services.PartnerError):
        services.api_key_rotate(api_key=setup.key, actor=setup.staff, reason="x")


def test_a_deactivated_partner_is_locked_out(client, setup):
    partner = setup.partner
    services.partner_update(partner=partner, actor=setup.staff, reason="kontrak berakhir", name=partner.name,
                            website="", redirect_uris=partner.redirect_uris, webhook_url="", is_active=False)
    assert get(client, setup.raw_key).status_code == 401


def test_an_address_that_tries_too_many_wrong_keys_is_refused_before_any_look_up(client, setup,
                                                                                   django_assert_num_queries):
    from django.test import Client

    from intrasa.ratelimit import PARTNER_API_BAD_KEYS

    wrong = setup.raw_key[:-3] + ("aaa" if not setup.raw_key.endswith("aaa") else "bbb")
    for _ in range(PARTNER_API_BAD_KEYS.limit):
        assert get(client, wrong).status_code == 401
    with django_assert_num_queries(0):  # refused before the key is looked up
        refused = get(client, setup.raw_key)  # even the right key, from that address
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "kunci API yang tidak sah" in refused.json()["error"]["message"]
    assert PARTNER_API_BAD_KEYS.window - 5 <= int(refused["Retry-After"]) <= PARTNER_API_BAD_KEYS.window  # time left
    assert get(client, wrong).status_code == 429
    # Another address is not affected, and requests without a key never count.
    assert get(Client(REMOTE_ADDR="10.1.2.3"), setup.raw_key).status_code == 200


def test_a_right_key_does_not_count_against_the_address(client, setup):
    from intrasa.ratelimit import PARTNER_API_BAD_KEYS

    for _ in range(PARTNER_API_BAD_KEYS.limit + 5):
        assert get(client, setup.raw_key).status_code == 200


def test_a_retired_key_of_the_partner_does_not_lock_its_live_key_out(client, setup):
    """A worker left on the key rotated out (or revoked) is the partner's own mistake, not a guess:
    it is refused (401) but must not shut the partner's new key out of the API from that address."""
    from intrasa.ratelimit import PARTNER_API_BAD_KEYS

    new_key, new_raw = services.api_key_rotate(api_key=setup.key, actor=setup.staff, reason="rotasi berkala")
    ApiKey.objects.filter(pk=setup.key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    revoked, revoked_raw = services.api_key_issue(partner=setup.partner, actor=setup.staff, reason="lama",
                                                  scopes=[SCOPE_TRANSACTIONS_READ])
    services.api_key_revoke(api_key=revoked, actor=setup.staff, reason="bocor")
    for _ in range(PARTNER_API_BAD_KEYS.limit):
        assert get(client, setup.raw_key).status_code == 401
        assert get(client, revoked_raw).status_code == 401
    assert get(client, new_raw).status_code == 200


def test_a_retired_key_is_bounded_by_its_own_budget(client, setup):
    """Not counted against the address, a retired key's look-ups are still bounded: by the key's
    per-minute budget, like a live key's."""
    from intrasa.ratelimit import PARTNER_API

    services.api_key_revoke(api_key=setup.key, actor=setup.staff, reason="bocor")
    for _ in range(PARTNER_API.limit):
        assert get(client, setup.raw_key).status_code == 401
    refused = client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {setup.raw_key}",
                         HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429
    assert refused.json()["error"]["message"] == "Too many requests for this API key; try again after Retry-After seconds."


def test_a_malformed_key_is_never_looked_up_and_does_not_count(client, setup, django_assert_num_queries):
    """A key that cannot be one (a stray space, a truncated copy) costs no look-up, so it is not what
    the address budget bounds: a partner's one misconfigured service must not lock out the others."""
    from intrasa.ratelimit import PARTNER_API_BAD_KEYS

    for _ in range(PARTNER_API_BAD_KEYS.limit + 1):
        with django_assert_num_queries(0):
            assert get(client, setup.raw_key + " ").status_code == 401
    assert get(client, setup.raw_key).status_code == 200


def test_the_bad_key_refusal_is_in_the_callers_language(client, setup):
    from intrasa.ratelimit import PARTNER_API_BAD_KEYS

    wrong = setup.raw_key[:-3] + ("aaa" if not setup.raw_key.endswith("aaa") else "bbb")
    for _ in range(PARTNER_API_BAD_KEYS.limit):
        get(client, wrong)
    english = client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {wrong}", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 429
    assert english.json() == {"error": {"code": "rate_limited", "details": [], "message": (
        "Too many requests with an API key that is not valid came from your address; try again after "
        "Retry-After seconds.")}}
