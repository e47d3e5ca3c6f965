"""Posting one webhook to a partner: the HTTP side, outside any database transaction.

* **Explicit timeouts** (connect, read) and no redirects: a 3xx is an answer, not a new address.
* **SSRF guard.** A partner's URL must not make INTRASA call into its own network: only ``https``,
  and every address the host name resolves to must be a public one (not loopback, private,
  link-local — the cloud metadata address —, reserved or multicast). Development and tests allow
  ``http`` and private addresses (``PARTNER_WEBHOOK_ALLOW_PRIVATE``, default ``DEBUG``). The check
  resolves the name just before the call; a name that resolves differently a moment later (DNS
  rebinding) is the residual risk, which the production egress firewall closes.
* At most ``EXCERPT_BYTES`` of the answer are read and kept, for the partner and staff to see.
"""
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings

EXCERPT_BYTES = 2000
_session = requests.Session()


class UnsafeDestination(Exception):
    """The URL may not be called (wrong scheme, or an address inside a private network)."""


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    excerpt: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def check_destination(url: str, *, allow_private: bool | None = None, resolve: bool = True) -> None:
    """Refuse ``url`` unless it is https to public addresses only (see the module docstring).
    Without ``resolve`` (registering a URL) only the name itself is judged: an address literal
    must be public and ``localhost`` is refused; the name is resolved at each delivery."""
    if allow_private is None:
        allow_private = settings.PARTNER_WEBHOOK_ALLOW_PRIVATE
    parts = urlsplit(url)
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise UnsafeDestination("only https URLs are allowed")
    if parts.username or parts.password:
        raise UnsafeDestination("URLs with credentials are not allowed")
    if allow_private:
        return
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeDestination("localhost is not a public address")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and (not literal.is_global or literal.is_multicast):
        raise UnsafeDestination(f"{host} is not a public address")
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"host name does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise UnsafeDestination(f"{parts.hostname} resolves to a non-public address")


def post(*, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        check_destination(url)
    except UnsafeDestination as exc:
        return PostResult(None, "", f"refused: {exc}"[:300], 0)
    timeout = (settings.PARTNER_WEBHOOK_CONNECT_TIMEOUT, settings.PARTNER_WEBHOOK_READ_TIMEOUT)
    try:
        with _session.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                           timeout=timeout, allow_redirects=False, stream=True) as response:
            raw = b""
            for chunk in response.iter_content(chunk_size=EXCERPT_BYTES):
                raw += chunk
                if len(raw) >= EXCERPT_BYTES:
                    break
            return PostResult(response.status_code, raw[:EXCERPT_BYTES].decode("utf-8", "replace"), "", elapsed())
    except requests.RequestException as exc:
        return PostResult(None, "", f"{type(exc).__name__}: {exc}"[:300], elapsed())
