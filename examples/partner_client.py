"""A small client for the INTRASA partner API — copy this file into your forum or marketplace.

Needs only ``requests``. The three things a partner does:

1. **Link a seller** (once): send them to ``client.authorize_url(...)``; INTRASA sends them back to
   your redirect URI with ``?code=…&state=…``; check the state, then
   ``link = client.exchange_code(code, redirect_uri)`` and store ``link["link_id"]`` with the seller.

2. **Create a transaction and redirect the buyer**::

       client = IntrasaClient("https://intrasa.co.id", api_key="intrasa_…")
       txn = client.create_transaction(link_id=seller.intrasa_link_id, title="iPhone 11 bekas",
                                       description="64 GB, mulus", category="physical", price=2_750_000,
                                       shipping_cost=25_000, buyer_email=buyer.email, external_id=str(thread.id))
       return redirect(txn["links"]["accept_url"])   # the buyer accepts and then pays on INTRASA

   ``create_transaction`` retries network failures and 5xx answers with the *same* Idempotency-Key,
   so a retry never creates a second transaction.

3. **Receive webhooks**: INTRASA POSTs JSON to your webhook URL. Verify the signature over the raw
   body before trusting it, answer 2xx quickly, and deduplicate by the event ``id`` (delivery is at
   least once; ``sequence`` orders the events of one transaction)::

       if not verify_webhook(secret=WEBHOOK_SECRET, body=request.body,
                             timestamp=request.headers["INTRASA-Timestamp"],
                             signature=request.headers["INTRASA-Signature"]):
           return HttpResponse(status=400)
       event = json.loads(request.body)

Signature scheme: ``INTRASA-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`` with
``INTRASA-Timestamp`` in Unix seconds; refuse timestamps more than five minutes off.
"""
from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import requests

__all__ = ["IntrasaClient", "IntrasaError", "verify_webhook"]


class IntrasaError(Exception):
    """An error answer of the API: ``status`` (HTTP), ``code`` (stable), ``message`` (for people)."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details or []


def verify_webhook(*, secret: str, body: bytes, timestamp: str, signature: str, tolerance: int = 300,
                   now: float | None = None) -> bool:
    """True if ``body`` (the raw bytes received) was signed by INTRASA with ``secret`` recently."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    expected = "v1=" + hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str (a forged header).
    return hmac.compare_digest(expected.encode(), (signature or "").encode("utf-8", "replace"))


class IntrasaClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: tuple[float, float] = (3.05, 20),
                 retries: int = 3, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.session = session or requests.Session()

    # --- linking a seller ---------------------------------------------------------------------
    def authorize_url(self, *, client_id: str, redirect_uri: str, state: str,
                      scope: str = "transactions:read transactions:write") -> str:
        """Where to send a seller to link their INTRASA account (``state``: your random value,
        checked when they come back)."""
        query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, "state": state})
        return f"{self.base_url}/mitra/otorisasi/?{query}"

    def exchange_code(self, code: str, redirect_uri: str, *, idempotency_key: str | None = None) -> dict:
        return self._post("/api/v1/links/exchange", {"code": code, "redirect_uri": redirect_uri}, idempotency_key)

    # --- transactions ---------------------------------------------------------------------------
    def create_transaction(self, *, link_id: str, title: str, description: str, category: str, price: int,
                           idempotency_key: str | None = None, **optional) -> dict:
        """``optional``: shipping_cost, fee_payer, inspection_days, shipping_days, buyer_email,
        buyer_phone, accepts_returns, restocking_fee_percent, is_licence_or_voucher, external_id."""
        body = {"link_id": link_id, "title": title, "description": description, "category": category,
                "price": price, **optional}
        return self._post("/api/v1/transactions", body, idempotency_key)

    def get_transaction(self, reference: str) -> dict:
        return self._request("GET", f"/api/v1/transactions/{reference}")

    def timeline(self, reference: str) -> list:
        return self._request("GET", f"/api/v1/transactions/{reference}/timeline")

    def buyer_links(self, reference: str) -> dict:
        """``accept_url`` and ``pay_url``: where your page sends the buyer."""
        return self._request("GET", f"/api/v1/transactions/{reference}/links")

    def list_transactions(self, **filters) -> Iterator[dict]:
        """Every transaction matching ``filters`` (status, created_after, created_before), page by page."""
        params = {key: value for key, value in filters.items() if value is not None}
        while True:
            page = self._request("GET", "/api/v1/transactions", params=params)
            yield from page["items"]
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]

    def cancel(self, reference: str, reason: str, *, idempotency_key: str | None = None) -> dict:
        return self._post(f"/api/v1/transactions/{reference}/cancel", {"reason": reason}, idempotency_key)

    # --- webhooks -------------------------------------------------------------------------------
    def webhook_event(self, event_id: str) -> dict:
        """The event with every delivery attempt and what your endpoint answered."""
        return self._request("GET", f"/api/v1/webhooks/events/{event_id}")

    def redeliver(self, event_id: str, *, idempotency_key: str | None = None) -> dict:
        return self._post(f"/api/v1/webhooks/events/{event_id}/redeliver", None, idempotency_key)

    # --- plumbing -------------------------------------------------------------------------------
    def _post(self, path: str, body: dict | None, idempotency_key: str | None) -> dict:
        """POST with one Idempotency-Key for every retry: a retry after a timeout or a 5xx returns
        the first answer instead of doing the work twice."""
        key = idempotency_key or str(uuid.uuid4())
        for attempt in range(self.retries):
            try:
                return self._request("POST", path, json=body if body is not None else {},
                                     headers={"Idempotency-Key": key})
            except (requests.ConnectionError, requests.Timeout):
                if attempt == self.retries - 1:
                    raise
            except IntrasaError as error:
                if error.status < 500 or attempt == self.retries - 1:
                    raise
            time.sleep(2 ** attempt)
        raise AssertionError("unreachable")

    def _request(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json",
                   **kwargs.pop("headers", {})}
        response = self.session.request(method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs)
        if response.status_code == 429:
            time.sleep(min(int(response.headers.get("Retry-After", "1")), 60))
            response = self.session.request(method, self.base_url + path, headers=headers, timeout=self.timeout,
                                            **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"code": "http_error", "message": response.text[:200]}
            raise IntrasaError(response.status_code, error.get("code", ""), error.get("message", ""),
                               error.get("details"))
        return response.json()
