"""Posting one webhook to a partner: the HTTP side, outside any database transaction.

* **Explicit timeouts** (connect, read) and no redirects: a 3xx is an answer, not a new address.
* **One deadline per attempt** (connect + read timeout in all): the timeouts bound each socket
  operation, so an endpoint that answers one byte just within each could hold a worker for hours,
  and the event's lease (``services.webhook_deliver``) would run out and let a second delivery start.
  At the deadline the attempt's sockets are shut down and the attempt fails.
* **SSRF guard.** A partner's URL must not make INTRASA call into its own network: only ``https``,
  and every address the host name resolves to must be a public one (not loopback, private,
  link-local — the cloud metadata address —, reserved or multicast). Development and tests allow
  ``http`` and private addresses (``PARTNER_WEBHOOK_ALLOW_PRIVATE``, default ``DEBUG``). The check
  resolves the name just before the call, and the connection itself checks the address it
  actually reached before a byte is sent: a name that resolves differently a moment later (DNS
  rebinding) reaches nothing inside. (Behind an egress proxy the peer is the proxy, which is
  not checked; the proxy enforces the egress policy.)
* At most ``EXCERPT_BYTES`` of the answer are read and kept, for the partner and staff to see, as text
  PostgreSQL can store (no NUL); the attempt is recorded whatever the partner answers.
"""
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

EXCERPT_BYTES = 2000


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


# IPv6 ranges that carry an IPv4 address inside them: NAT64 (well-known and local-use prefixes)
# and the deprecated IPv4-compatible ::/96. Python calls these "global", yet ``64:ff9b::7f00:1``
# reaches 127.0.0.1 through a NAT64 gateway. 6to4 (2002::/16) and Teredo have their own
# ``ipaddress`` properties; IPv4-mapped (::ffff:0:0/96) too.
_IPV4_CARRYING = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"),
                  ipaddress.IPv6Network("::/96"))


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A unicast address on the public internet; an IPv6 address that carries an IPv4 address
    must carry a public one."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is None and any(address in network for network in _IPV4_CARRYING):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None and not _is_public(inner):
            return False
    return True


def _address_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells, including the forms the resolver reads as an address but
    ``ipaddress`` does not: ``2130706433``, ``0x7f000001``, ``017700000001``, ``127.1``."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_destination(url: str, *, allow_private: bool | None = None, resolve: bool = True) -> None:
    """Refuse ``url`` unless it is https to public addresses only (see the module docstring).
    Without ``resolve`` (registering a URL) only the name itself is judged: an address literal
    (in any spelling the resolver accepts) must be public and ``localhost`` is refused; the name
    is resolved at each delivery."""
    if allow_private is None:
        allow_private = settings.PARTNER_WEBHOOK_ALLOW_PRIVATE
    try:  # an unbalanced "[" or a port that is not 0–65535 raises when parsed or read
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read for its check
    except ValueError:
        raise UnsafeDestination("the URL is not valid") from None
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise UnsafeDestination("only https URLs are allowed")
    if parts.username or parts.password:
        raise UnsafeDestination("URLs with credentials are not allowed")
    if allow_private:
        return
    # The name as the resolver and the HTTP client will see it: IDNA folds "①②⑦" into "127"
    # and "。" into ".", so "①②⑦。0。0。1" is judged as the loopback address it is.
    try:
        host = parts.hostname.encode("idna").decode("ascii").rstrip(".").lower()
    except UnicodeError:
        raise UnsafeDestination("the host name is not valid") from None
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeDestination("localhost is not a public address")
    literal = _address_literal(host.split("%")[0])
    if literal is not None and not _is_public(literal):
        raise UnsafeDestination(f"{host} is not a public address")
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"host name does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not _is_public(address):
            raise UnsafeDestination(f"{parts.hostname} resolves to a non-public address")


# The sockets the current attempt opened (per thread), for its deadline to shut down.
_attempt = threading.local()


class _Deadline:
    """Shuts down the sockets an attempt opened once ``seconds`` have passed (a timer thread): a recv
    blocked in the middle of a trickled answer returns at once and the request fails."""

    def __init__(self, seconds: float):
        self.sockets: list[socket.socket] = []
        self.passed = False
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def _cut(self) -> None:
        self.passed = True
        for sock in list(self.sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed
                pass

    def __enter__(self):
        _attempt.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        _attempt.deadline = None


class _PeerChecked:
    """A connection that, once connected and before TLS or the request, refuses a peer that is
    not a public address (the resolver may answer the connection differently from the check); and
    is handed to the attempt's deadline."""

    def _new_conn(self):
        sock = super()._new_conn()
        deadline = getattr(_attempt, "deadline", None)
        if deadline is not None:
            deadline.sockets.append(sock)
        if not settings.PARTNER_WEBHOOK_ALLOW_PRIVATE:
            peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%")[0])
            if not _is_public(peer):
                sock.close()
                raise NewConnectionError(self, f"refused: connected to the non-public address {peer}")
        return sock


class _CheckedHTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _PeerCheckingAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


_session = requests.Session()
_session.mount("http://", _PeerCheckingAdapter())
_session.mount("https://", _PeerCheckingAdapter())


def _storable(text: str) -> str:
    """Text as a PostgreSQL text column takes it: a NUL (which a partner's answer or an error message
    quoting it may hold) would make the attempt's own record fail, and the attempt would be sent again
    and again without ever being counted."""
    return text.replace("\x00", "\ufffd")


def post(*, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        check_destination(url)
    except UnsafeDestination as exc:
        return PostResult(None, "", _storable(f"refused: {exc}"[:300]), 0)
    timeout = (settings.PARTNER_WEBHOOK_CONNECT_TIMEOUT, settings.PARTNER_WEBHOOK_READ_TIMEOUT)
    with _Deadline(attempt_deadline()) as deadline:
        try:
            with _session.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                               timeout=timeout, allow_redirects=False, stream=True) as response:
                raw = b""
                for chunk in response.iter_content(chunk_size=EXCERPT_BYTES):
                    raw += chunk
                    if len(raw) >= EXCERPT_BYTES:
                        break
                if not deadline.passed:
                    return PostResult(response.status_code,
                                      _storable(raw[:EXCERPT_BYTES].decode("utf-8", "replace")), "", elapsed())
        except requests.RequestException as exc:
            if not deadline.passed:
                return PostResult(None, "", _storable(f"{type(exc).__name__}: {exc}"[:300]), elapsed())
    return PostResult(None, "", f"no complete answer within {attempt_deadline():g} s", elapsed())


def attempt_deadline() -> float:
    """Seconds one attempt may take in all: the connect and the read timeout together."""
    return settings.PARTNER_WEBHOOK_CONNECT_TIMEOUT + settings.PARTNER_WEBHOOK_READ_TIMEOUT
