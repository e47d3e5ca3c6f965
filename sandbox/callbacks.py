"""Outbound messages: Debit payment notifications and SendMe callbacks.

A message is a :class:`~sandbox.models.Callback` row written in the same transaction as the state
change that caused it, then delivered by the Celery task ``sandbox.tasks.deliver_callback`` after
commit. Each attempt claims the row briefly (locked, attempt counted, lease set), sends without
holding a lock, and records the outcome in a second short transaction.

What counts as "delivered":

- Debit notification: HTTP 2xx and a JSON body with ``response_code`` ``"00"`` (REFERENCE §4.1).
- SendMe callback: any HTTP 2xx (Faspay documents no reply body).

SendMe callbacks are SNAP-signed by the sandbox's own key (``var/keys/faspay-sandbox-*.pem``,
verified in INTRASA by :func:`intrasa.keys.faspay_public_key`) with the same asymmetric recipe as
requests: ``POST:<callback URL path>:lowerhex(sha256(body)):X-TIMESTAMP``.
"""
import datetime as dt
import json
import logging
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlencode, urlsplit

import defusedxml.ElementTree as SafeElementTree
import requests
from celery import current_app
from defusedxml import DefusedXmlException
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from faspay import keys, signing

from . import faults
from .models import Callback, Fault, SandboxConfig

logger = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(seconds=60)
HELD_RELEASE_AFTER = dt.timedelta(seconds=60)
HTTP_TIMEOUT = (5, 10)


def callback_enqueue(*, kind: str, url: str, payload: dict, bill=None, transfer=None) -> list[Callback]:
    """Record a message (and apply callback faults). Call inside the state change's transaction."""
    config = SandboxConfig.get()
    now = timezone.now()
    fault = faults.take(f"callback.{kind}", Fault.CALLBACK_KINDS)
    base = dict(kind=kind, url=url, payload=payload, bill=bill, transfer=transfer,
                max_attempts=config.callback_max_attempts, next_attempt_at=now)
    if fault and fault.kind == Fault.Kind.CALLBACK_DROP:
        return [Callback.objects.create(**base, state=Callback.State.DROPPED,
                                        log=[{"at": now.isoformat(), "event": "dropped by fault"}])]
    if fault and fault.kind == Fault.Kind.CALLBACK_REORDER:
        return [Callback.objects.create(**base, state=Callback.State.HELD,
                                        log=[{"at": now.isoformat(), "event": "held by reorder fault"}])]
    if fault and fault.kind == Fault.Kind.CALLBACK_DELAY:
        base["next_attempt_at"] = now + dt.timedelta(seconds=fault.seconds)
        callback = Callback.objects.create(**base)
        if not current_app.conf.task_always_eager:
            _schedule(callback.pk, countdown=fault.seconds)
        # Eagerly (tests) a countdown would be ignored; the sweep delivers it once it is due.
        return [callback]
    copies = 2 if fault and fault.kind == Fault.Kind.CALLBACK_DUPLICATE else 1
    created = []
    for _ in range(copies):
        callback = Callback.objects.create(**base)
        _schedule(callback.pk)
        created.append(callback)
    return created


def _schedule(callback_id: int, countdown: float | None = None) -> None:
    from .tasks import deliver_callback

    if countdown:
        transaction.on_commit(lambda: deliver_callback.apply_async((callback_id,), countdown=countdown))
    else:
        transaction.on_commit(lambda: deliver_callback.delay(callback_id))


def _claim(callback_id: int) -> Callback | None:
    with transaction.atomic():
        callback = Callback.objects.select_for_update().filter(pk=callback_id).first()
        if callback is None or callback.state != Callback.State.PENDING:
            return None
        if callback.attempts >= callback.max_attempts:
            callback.state = Callback.State.FAILED
            callback.save(update_fields=["state"])
            return None
        callback.attempts += 1
        callback.next_attempt_at = timezone.now() + CLAIM_LEASE
        callback.save(update_fields=["attempts", "next_attempt_at"])
        return callback


def notification_format(callback: Callback) -> str:
    """The body format of a Debit notification: the bill's own choice, else the configured one."""
    bill = callback.bill
    return (bill.notification_format if bill is not None and bill.notification_format
            else SandboxConfig.get().notification_format)


def encode_notification(payload: dict, fmt: str) -> tuple[bytes, str]:
    """``(body, content type)`` of a Debit notification: JSON, XML (root ``<faspay>``, one element
    per field, as Faspay's XML notification) or form-encoded."""
    if fmt == "xml":
        root = ElementTree.Element("faspay")
        for key, value in payload.items():
            ElementTree.SubElement(root, key).text = str(value)
        return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True), "application/xml"
    if fmt == "form":
        return urlencode({key: str(value) for key, value in payload.items()}).encode("ascii"), \
            "application/x-www-form-urlencoded"
    return signing.minify_body(payload), "application/json"


def reply_response_code(response: requests.Response, fmt: str) -> str:
    """``response_code`` of the merchant's reply, read in the format the notification was sent in
    (XML for XML; JSON otherwise, Faspay having no form-encoded reply)."""
    if fmt == "xml":
        try:
            root = SafeElementTree.fromstring(response.content, forbid_dtd=True)
        except (ElementTree.ParseError, DefusedXmlException, ValueError):
            return ""
        return (root.findtext("response_code") or "").strip()
    try:
        return str(response.json().get("response_code"))
    except (ValueError, AttributeError):
        return ""


def _signed_headers(callback: Callback, body: bytes) -> dict[str, str]:
    if callback.kind != Callback.Kind.SENDME:
        return {"Content-Type": "application/json"}
    parts = urlsplit(callback.url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    signer = signing.AsymmetricSigner(private_key=keys.dev_key_pair(keys.FASPAY_SANDBOX_KEY_NAME).private_key)
    return signing.build_signed_request(
        signer, method="POST", path=path, body=callback.payload,
        partner_id=settings.SENDME_PARTNER_ID, channel_id=settings.SENDME_CHANNEL_ID,
    ).headers


def _accepted(callback: Callback, response: requests.Response, fmt: str = "json") -> bool:
    if not 200 <= response.status_code < 300:
        return False
    if callback.kind == Callback.Kind.DEBIT:
        return reply_response_code(response, fmt) == "00"
    return True


def callback_attempt(*, callback_id: int) -> float | None:
    """Try one delivery. Returns seconds until the next try, or ``None`` when done."""
    callback = _claim(callback_id)
    if callback is None:
        return None
    fmt = "json"
    if callback.kind == Callback.Kind.DEBIT:
        fmt = notification_format(callback)
        body, content_type = encode_notification(callback.payload, fmt)
        headers = {"Content-Type": content_type}
    else:
        body = signing.minify_body(callback.payload)
        headers = _signed_headers(callback, body)
    status, error = None, ""
    try:
        response = requests.post(callback.url, data=body, headers=headers, timeout=HTTP_TIMEOUT)
        status = response.status_code
        ok = _accepted(callback, response, fmt)
        if not ok:
            error = response.text[:500]
    except requests.RequestException as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
    config = SandboxConfig.get()
    now = timezone.now()
    with transaction.atomic():
        callback = Callback.objects.select_for_update().get(pk=callback_id)
        callback.last_status = status
        callback.last_error = error
        callback.log = [*callback.log, {"at": now.isoformat(), "attempt": callback.attempts,
                                        "status": status, "ok": ok, "error": error[:200]}]
        retry_in = None
        if ok:
            callback.state = Callback.State.DELIVERED
            callback.delivered_at = now
        elif callback.attempts >= callback.max_attempts:
            callback.state = Callback.State.FAILED
        else:
            retry_in = float(config.callback_retry_seconds)
            callback.next_attempt_at = now + dt.timedelta(seconds=retry_in)
        callback.save()
        if ok:
            _release_held(exclude=callback.pk)
    if not ok:
        logger.info("sandbox callback %s to %s failed (attempt %s): %s",
                    callback_id, callback.url, callback.attempts, error[:200])
    return retry_in


def _release_held(*, exclude: int | None = None, older_than: dt.datetime | None = None) -> int:
    held = Callback.objects.select_for_update().filter(state=Callback.State.HELD)
    if exclude:
        held = held.exclude(pk=exclude)
    if older_than:
        held = held.filter(created_at__lte=older_than)
    released = 0
    for callback in held:
        callback.state = Callback.State.PENDING
        callback.next_attempt_at = timezone.now()
        callback.log = [*callback.log, {"at": timezone.now().isoformat(), "event": "released"}]
        callback.save(update_fields=["state", "next_attempt_at", "log"])
        _schedule(callback.pk)
        released += 1
    return released


def callbacks_due(*, grace_seconds: float = 0) -> list[int]:
    """Ids of messages whose next attempt is due by more than ``grace_seconds``.

    The periodic sweep passes a grace period so that it only picks up messages whose own retry
    task was lost, instead of racing it; the control page's "tick" passes 0.
    """
    now = timezone.now()
    with transaction.atomic():
        _release_held(older_than=now - HELD_RELEASE_AFTER)
    due = now - dt.timedelta(seconds=grace_seconds)
    return list(Callback.objects.filter(state=Callback.State.PENDING, next_attempt_at__lte=due)
                .order_by("created_at", "id").values_list("pk", flat=True)[:200])


def describe(callback: Callback) -> dict:
    return {
        "id": callback.pk, "kind": callback.kind, "state": callback.state, "url": callback.url,
        "attempts": callback.attempts, "last_status": callback.last_status,
        "created_at": callback.created_at.isoformat() if callback.created_at else None,
        "payload": json.loads(json.dumps(callback.payload)),
        "format": notification_format(callback) if callback.kind == Callback.Kind.DEBIT else "json",
    }
