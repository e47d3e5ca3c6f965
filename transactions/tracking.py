"""Courier tracking: one client behind one interface, the way ``payments.faspay`` speaks to Faspay.

INTRASA asks a tracking source what happened to a receipt (resi) number: picked up, in transit,
delivered. The answer starts the buyer's inspection clock at the courier's delivery scan
(``transactions.services.transaction_record_tracking``) and shows the courier's events on the
transaction's timeline. The client speaks HTTP with ``requests`` (a session, explicit timeouts, no
retries hidden inside), returns typed results and knows no Django model. In development and tests
the source is the sandbox (``sandbox/tracking``), which scripts pickup, transit and delivery for a
receipt number; in production ``TRACKING_BASE_URL`` points at the tracking aggregator INTRASA
contracts (same JSON shape: ``{"events": [{"code", "at", "location", "description"}]}``).
"""
import datetime as dt
from dataclasses import dataclass

import requests
from django.conf import settings

PICKED_UP = "picked_up"
IN_TRANSIT = "in_transit"
DELIVERED = "delivered"
CODES = (PICKED_UP, IN_TRANSIT, DELIVERED)


class TrackingUnavailable(Exception):
    """The tracking source did not answer usefully (timeout, 5xx, malformed): try again later."""


@dataclass(frozen=True)
class TrackingEvent:
    code: str  # one of CODES
    at: dt.datetime  # aware
    location: str = ""
    description: str = ""


@dataclass(frozen=True)
class TrackingResult:
    courier: str
    receipt_number: str
    events: tuple[TrackingEvent, ...]

    @property
    def delivered_at(self) -> dt.datetime | None:
        """The first delivery scan, if the courier reported one."""
        return min((e.at for e in self.events if e.code == DELIVERED), default=None)


def _parse_event(raw) -> TrackingEvent | None:
    if not isinstance(raw, dict) or raw.get("code") not in CODES:
        return None
    try:
        at = dt.datetime.fromisoformat(str(raw.get("at", "")))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return TrackingEvent(code=raw["code"], at=at, location=str(raw.get("location", ""))[:100],
                         description=str(raw.get("description", ""))[:200])


class TrackingClient:
    """``track(courier=..., receipt_number=...)`` → ``TrackingResult``; raises ``TrackingUnavailable``."""

    def __init__(self, *, base_url: str, api_key: str, timeout: float, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()

    def track(self, *, courier: str, receipt_number: str) -> TrackingResult:
        try:
            response = self.session.get(f"{self.base_url}/v1/track", params={"courier": courier, "awb": receipt_number},
                                        headers={"X-Api-Key": self.api_key}, timeout=(3.05, self.timeout))
        except requests.RequestException as exc:
            raise TrackingUnavailable(str(exc)) from None
        if response.status_code == 404:
            return TrackingResult(courier, receipt_number, ())  # not scanned by the courier yet
        if response.status_code != 200:
            raise TrackingUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise TrackingUnavailable("not JSON") from None
        raw_events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(raw_events, list):
            raise TrackingUnavailable("no events list")
        events = tuple(sorted((e for e in map(_parse_event, raw_events) if e is not None), key=lambda e: e.at))
        return TrackingResult(courier, receipt_number, events)

    def close(self) -> None:
        self.session.close()


def default_client() -> TrackingClient:
    return TrackingClient(base_url=settings.TRACKING_BASE_URL, api_key=settings.TRACKING_API_KEY,
                          timeout=settings.TRACKING_HTTP_TIMEOUT_SECONDS)
