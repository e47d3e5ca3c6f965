"""A partner with a key and a linked seller, made through the real services (as staff would)."""
import uuid
from dataclasses import dataclass

import pytest

from partners import services
from partners.models import KEY_SCOPES, LINK_SCOPES
from tests.factories import StaffFactory


@dataclass
class Setup:
    partner: object
    key: object
    raw_key: str
    secret: str
    link: object
    staff: object

    def headers(self, **extra):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.raw_key}", **extra}


def make_partner(*, name="Forum Jual Beli", webhook_url="", staff=None):
    staff = staff or StaffFactory(email=f"staf-{uuid.uuid4().hex[:6]}@intrasa.co.id")
    partner, secret = services.partner_register(actor=staff, reason="kontrak kemitraan", name=name,
                                                redirect_uris="https://forum.example/callback",
                                                webhook_url=webhook_url)
    key, raw = services.api_key_issue(partner=partner, actor=staff, reason="kunci produksi", scopes=list(KEY_SCOPES))
    return partner, secret, key, raw, staff


def link_seller(partner, user):
    link, _code = services.link_approve(partner=partner, user=user, scopes=list(LINK_SCOPES),
                                        redirect_uri="https://forum.example/callback")
    return link


@pytest.fixture
def allow_private(settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def setup(db, seller, allow_private):
    partner, secret, key, raw, staff = make_partner()
    return Setup(partner=partner, key=key, raw_key=raw, secret=secret, link=link_seller(partner, seller), staff=staff)


def terms(setup, **overrides):
    return {"link_id": str(setup.link.public_id), "title": "Akun game level 80", "description": "Akun + email asli",
            "category": "digital", "price": 750_000, "buyer_email": "pembeli@example.co.id",
            "external_id": "thread-123", **overrides}


def post_json(client, url, data, setup, key="k-1", **extra):
    import json

    headers = setup.headers(**extra)
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, data=json.dumps(data) if not isinstance(data, (str, bytes)) else data,
                       content_type="application/json", **headers)
