"""Staff manage partners in the admin: every change through the audited services, with a reason;
secrets shown once; webhook attempts visible; redelivery from the list."""
import re

import pytest

from audit.models import AuditEntry
from partners import services
from partners.models import ApiKey, IdempotencyRecord, Partner, WebhookEvent
from tests.factories import StaffFactory
from tests.partners.conftest import post_json, terms


@pytest.fixture
def staff(db):
    return StaffFactory(email="ops@intrasa.co.id", is_superuser=True)


def shown_secret(response) -> str:
    return re.search(r'data-testid="secret-value">([^<]+)<', response.content.decode()).group(1)


def add(client, **overrides):
    data = {"name": "Forum Jual Beli", "website": "https://forum.example", "redirect_uris": "https://forum.example/cb",
            "webhook_url": "https://hooks.forum.example/intrasa", "is_active": "on", "reason": "kontrak no. 7",
            "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0", **overrides}
    return client.post("/admin/partners/partner/add/", data)


def test_registering_shows_the_signing_secret_once_and_audits(client, staff, settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(staff)
    response = add(client)
    partner = Partner.objects.get()
    assert shown_secret(response) == partner.webhook_secret and partner.client_id in response.content.decode()
    assert AuditEntry.objects.get(action="partner.register").reason == "kontrak no. 7"
    # The change page never shows it again.
    assert partner.webhook_secret not in client.get(f"/admin/partners/partner/{partner.pk}/change/").content.decode()


def test_an_unsafe_webhook_url_is_refused_with_a_message(client, staff, settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(staff)
    response = add(client, webhook_url="http://10.0.0.5/hook")
    assert response.status_code == 302 and not Partner.objects.exists()
    assert "https" in [str(m) for m in response.wsgi_request._messages][0]


def test_keys_are_issued_rotated_and_revoked_from_the_admin(client, staff, settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(staff)
    add(client)
    partner = Partner.objects.get()
    raw = shown_secret(client.post(f"/admin/partners/partner/{partner.pk}/issue-key/", {
        "scopes": ["transactions:read"], "label": "baca", "reason": "integrasi awal"}))
    key = ApiKey.objects.get()
    assert raw.startswith(f"intrasa_{key.prefix}_") and key.scopes == ["transactions:read"]
    assert client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    page = client.get(f"/admin/partners/partner/{partner.pk}/change/").content.decode()
    assert f"/admin/partners/apikey/{key.pk}/rotate/" in page and raw not in page
    new_raw = shown_secret(client.post(f"/admin/partners/apikey/{key.pk}/rotate/", {"reason": "rotasi"}))
    assert new_raw != raw and ApiKey.objects.count() == 2
    client.post(f"/admin/partners/apikey/{key.pk}/revoke/", {"reason": "bocor"})
    assert client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {new_raw}").status_code == 200
    assert set(AuditEntry.objects.filter(object_id=str(partner.pk)).values_list("action", flat=True)) >= {
        "partner.api_key_issue", "partner.api_key_rotate", "partner.api_key_revoke"}

    old_secret = partner.webhook_secret
    secret = shown_secret(client.post(f"/admin/partners/partner/{partner.pk}/rotate-secret/", {"reason": "rotasi"}))
    partner.refresh_from_db()
    assert secret == partner.webhook_secret != old_secret


def test_a_reason_is_required(client, staff):
    client.force_login(staff)
    response = add(client, reason="")
    assert response.status_code == 200 and not Partner.objects.exists()


def test_a_partner_with_transactions_cannot_be_deleted(client, setup, staff):
    client.force_login(staff)
    post_json(client, "/api/v1/transactions", terms(setup), setup)
    client.force_login(staff)
    response = client.post(f"/admin/partners/partner/{setup.partner.pk}/delete/", {"reason": "salah daftar"})
    assert response.status_code == 302 and Partner.objects.filter(pk=setup.partner.pk).exists()


def test_an_unused_partner_is_deleted_with_its_keys(client, staff, allow_private):
    partner, _secret, _key, _raw, _staff = __import__("tests.partners.conftest", fromlist=["x"]).make_partner()
    client.force_login(staff)
    client.post(f"/admin/partners/partner/{partner.pk}/delete/", {"reason": "salah daftar"})
    assert not Partner.objects.exists() and not ApiKey.objects.exists()
    assert AuditEntry.objects.filter(action="partner.delete", reason="salah daftar").exists()


def test_staff_redeliver_from_the_event_list(client, setup, staff, django_capture_on_commit_callbacks):
    post_json(client, "/api/v1/transactions", terms(setup), setup)
    event = WebhookEvent.objects.get()
    client.force_login(staff)
    assert client.get("/admin/partners/webhookevent/").status_code == 200
    with django_capture_on_commit_callbacks() as scheduled:
        client.post("/admin/partners/webhookevent/", {"action": "redeliver", "_selected_action": [event.pk]})
    assert scheduled  # the delivery task is enqueued after commit
    event.refresh_from_db()
    assert event.next_attempt_at is not None and event.delivered_at is None


def test_old_idempotency_answers_and_expired_codes_are_pruned(client, setup):
    import datetime as dt

    from django.utils import timezone

    post_json(client, "/api/v1/transactions", terms(setup), setup)
    assert services.partner_records_prune()["idempotency_records"] == 0
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(days=8))
    assert services.partner_records_prune()["idempotency_records"] == 1
