"""The tracking sandbox: a courier-tracking source that speaks the JSON of ``transactions.tracking``.

A receipt number seen for the first time gets the default script — picked up now, in transit an hour
later, delivered ``DEFAULT_DELIVERY_HOURS`` later — so ``make run`` shows real courier events and a
real delivery scan without anyone scripting them. Tests (and the control page) script a parcel
exactly with the ``tracking_script`` control action, or make it arrive now with ``tracking_deliver``.
Only events whose time has come are answered.
"""
import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Shipment

CODES = ("picked_up", "in_transit", "delivered")
DEFAULT_DELIVERY_HOURS = 24
DESCRIPTIONS = {"picked_up": "Paket diterima kurir", "in_transit": "Paket dalam perjalanan",
                "delivered": "Paket diterima oleh penerima"}


def _event(code: str, at: dt.datetime, location: str = "") -> dict:
    return {"code": code, "at": at.isoformat(), "location": location or {"picked_up": "Jakarta", "in_transit": "Hub",
                                                                          "delivered": "Alamat penerima"}[code],
            "description": DESCRIPTIONS[code]}


def _default_script(now: dt.datetime) -> list[dict]:
    return [_event("picked_up", now), _event("in_transit", now + dt.timedelta(hours=1)),
            _event("delivered", now + dt.timedelta(hours=DEFAULT_DELIVERY_HOURS))]


def shipment_get(*, courier: str, receipt_number: str) -> Shipment:
    try:
        with transaction.atomic():
            shipment, _ = Shipment.objects.get_or_create(courier=courier, receipt_number=receipt_number,
                                                         defaults={"events": _default_script(timezone.now())})
    except IntegrityError:  # two first queries at once
        shipment = Shipment.objects.get(courier=courier, receipt_number=receipt_number)
    return shipment


def events_due(shipment: Shipment, now: dt.datetime | None = None) -> list[dict]:
    now = now or timezone.now()
    return [e for e in shipment.events if dt.datetime.fromisoformat(e["at"]) <= now]


def shipment_script(*, courier: str, receipt_number: str, events: list) -> Shipment:
    """Replace a parcel's script: ``events`` = ``[{"code", "at" (ISO, with offset), "location"?}]``."""
    if not courier or not receipt_number or not isinstance(events, list):
        raise ValueError("courier, receipt_number and an events list are required")
    script = []
    for raw in events:
        if not isinstance(raw, dict) or raw.get("code") not in CODES:
            raise ValueError(f"each event needs a code among {CODES}")
        at = dt.datetime.fromisoformat(str(raw.get("at", "")))
        if at.tzinfo is None:
            raise ValueError("event times need a UTC offset")
        script.append(_event(raw["code"], at, str(raw.get("location", ""))))
    shipment, _ = Shipment.objects.update_or_create(courier=courier, receipt_number=receipt_number,
                                                    defaults={"events": script})
    return shipment


def shipment_deliver(*, courier: str, receipt_number: str, at: dt.datetime | None = None) -> Shipment:
    """The parcel is delivered now (or at ``at``): a delivery scan is added, later ones dropped."""
    at = at or timezone.now()
    shipment = shipment_get(courier=courier, receipt_number=receipt_number)
    kept = [e for e in shipment.events if e["code"] != "delivered"]
    shipment.events = kept + [_event("delivered", at)]
    shipment.save(update_fields=["events"])
    return shipment
