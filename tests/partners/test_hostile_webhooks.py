"""Webhook destinations an attacker would try, and forged signatures (hostile review of issue 20).

The SSRF guard is judged on the address spellings the resolver and the HTTP client accept, not
only on what ``ipaddress`` parses; IPv6 addresses that carry an IPv4 address (NAT64, 6to4,
Teredo, IPv4-compatible) are judged by the IPv4 address inside."""
import http.server
import socket
import threading

import pytest

from examples.partner_client import verify_webhook
from partners import services, signing, webhook_http
from partners.webhook_http import UnsafeDestination, check_destination
from tests.partners.conftest import make_partner

INTERNAL_SPELLINGS = [
    "https://2130706433/hook", "https://0x7f000001/hook", "https://017700000001/hook", "https://127.1/hook",
    "https://0/hook", "https://0.0.0.0/hook", "https://[::]/hook", "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook", "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
    "https://[64:ff9b:1::7f00:1]/hook", "https://[::127.0.0.1]/hook", "https://[2002:7f00:1::]/hook",
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "https://①②⑦.0.0.1/hook", "https://127。0。0。1/hook",
    "https://LOCALHOST./hook", "https://[fe80::1%25eth0]/hook", "https://100.64.0.1/hook",
]


@pytest.mark.parametrize("url", INTERNAL_SPELLINGS)
def test_every_spelling_of_an_internal_address_is_refused_when_registered_and_at_delivery(url, monkeypatch):
    with pytest.raises(UnsafeDestination):
        check_destination(url, allow_private=False, resolve=False)

    def no_network(*args, **kwargs):
        raise AssertionError("the guard must refuse before any connection")

    monkeypatch.setattr(webhook_http._session, "post", no_network)
    monkeypatch.setattr(webhook_http.settings, "PARTNER_WEBHOOK_ALLOW_PRIVATE", False)
    result = webhook_http.post(url=url, body=b"{}", headers={})
    assert result.status_code is None and result.error.startswith("refused")


@pytest.mark.django_db
def test_the_admin_refuses_a_decimal_loopback_webhook_url(settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(services.PartnerError) as refused:
        make_partner(name="Nakal", webhook_url="https://2130706433/hook")
    assert refused.value.code == "invalid_webhook_url"


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "2002:a00:1::", "::ffff:10.0.0.1", "::10.0.0.1"])
def test_a_public_name_resolving_to_an_ipv6_form_of_a_private_address_is_refused(address, monkeypatch):
    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    check_destination("https://hooks.forum.example/x", allow_private=False, resolve=False)
    with pytest.raises(UnsafeDestination):
        check_destination("https://hooks.forum.example/x", allow_private=False)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::"])
def test_public_addresses_stay_allowed(address, monkeypatch):
    def resolve(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    check_destination("https://hooks.forum.example/x", allow_private=False)


class _Server:
    def __init__(self, status: int, location: str = ""):
        self.hits = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.hits += 1
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_answer_and_never_followed(status, settings):
    """A public endpoint that answers 3xx towards an internal address must not make INTRASA call it."""
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = True  # both servers are on loopback in the test
    internal = _Server(200)
    redirector = _Server(status, location=internal.url + "latest/meta-data")
    try:
        result = webhook_http.post(url=redirector.url, body=b"{}", headers={})
    finally:
        redirector.close()
        internal.close()
    assert result.status_code == status and not result.succeeded
    assert redirector.hits == 1 and internal.hits == 0


@pytest.mark.parametrize("verify", [
    lambda **kw: verify_webhook(**kw),
    lambda **kw: signing.verify(**kw),
], ids=["example_client", "intrasa"])
def test_forged_signature_headers_are_refused_without_an_exception(verify):
    body, stamp = b'{"id":"1"}', 1_800_000_000
    good = signing.sign(secret="whsec_x", timestamp=stamp, body=body)
    assert verify(secret="whsec_x", body=body, timestamp=str(stamp), signature=good, now=stamp)
    for signature in ("v1=é" + good[4:], "v1=\u20ac", "", None, good.upper(), good + " ", "v0=" + good[3:]):
        assert not verify(secret="whsec_x", body=body, timestamp=str(stamp), signature=signature, now=stamp)
    for timestamp in ("", "abc", str(stamp - 301), str(stamp + 301), "1e9", None):
        assert not verify(secret="whsec_x", body=body, timestamp=timestamp, signature=good, now=stamp)
    assert not verify(secret="whsec_x", body=body.replace(b"1", b"2"), timestamp=str(stamp), signature=good, now=stamp)


class _Listener:
    """A bare TCP listener on loopback that records every byte a client sends."""

    def __init__(self):
        self.received = b""
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:
                return
            connection.settimeout(2)
            try:
                while chunk := connection.recv(4096):
                    self.received += chunk
            except OSError:
                pass
            connection.close()

    def close(self):
        self.sock.close()


def test_dns_rebinding_reaches_nothing_inside(monkeypatch, settings):
    """The name is public when the guard asks and loopback when the connection is made: the
    connection refuses the peer it reached before sending a byte (no TLS hello, no request)."""
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = False
    listener = _Listener()
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34"])

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.forum.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")  # public for the check, then loopback
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        result = webhook_http.post(url=f"https://rebind.forum.example:{listener.port}/hook", body=b'{"secret": 1}',
                                   headers={})
    finally:
        listener.close()
    assert result.status_code is None and "non-public address" in result.error
    assert listener.received == b""
