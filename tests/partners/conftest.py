"""A partner with a key and a linked seller, made through the real services (as staff would)."""
import time
import types
import uuid
from dataclasses import dataclass

import pytest

from partners import services
from partners.models import KEY_SCOPES, LINK_SCOPES
from tests.factories import StaffFactory


@pytest.fixture(autouse=True)
def _one_rate_limit_minute(monkeypatch):
    """The API key's budget is per clock-aligned minute (``partners.api``): a test that spends it
    across a minute boundary would find it full again and see 200/401 where it expects 429. Every
    partner test runs within one minute of the API's clock, 20 s into it."""
    pinned = time.time() // 60 * 60 + 20
    pinned_time = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    pinned_time.time = lambda: pinned
    monkeypatch.setattr("partners.api.time", pinned_time)


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


class Receiver:
    """A partner's webhook endpoint: a real HTTP server on loopback that records every request
    (headers and raw body) and answers with the status codes queued in ``answers`` (then 200)."""

    def __init__(self):
        import http.server
        import threading

        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.delay = 0.0  # seconds the endpoint takes to answer
        self.body: bytes | None = None  # what the endpoint answers (default: a short JSON or text)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    import time

                    time.sleep(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.requests.append({"headers": dict(self.headers), "body": body, "status": status})
                answer = receiver.body if receiver.body is not None else (
                    b'{"ok": true}' if status < 300 else b"endpoint down for maintenance")
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/intrasa"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict]:
        import json

        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def hooked(db, seller, allow_private, receiver):
    """A partner whose webhook URL is the receiver."""
    partner, secret, key, raw, staff = make_partner(webhook_url=receiver.url)
    return Setup(partner=partner, key=key, raw_key=raw, secret=secret, link=link_seller(partner, seller), staff=staff)
