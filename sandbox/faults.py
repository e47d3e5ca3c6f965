"""Fault injection: pick (and consume) the fault rule that applies to one call.

A rule matches an operation when the operation name starts with its ``scope``; among matching
rules of the asked kinds the oldest wins. ``remaining`` is decremented with the row locked, so
"the next 2 calls" means exactly two even under concurrent requests.
"""
import random
import time
from dataclasses import dataclass

from django.db import close_old_connections, connection, transaction
from django.db.models import F

from .models import Fault

HTTP_KINDS = {Fault.Kind.LATENCY, Fault.Kind.TIMEOUT, Fault.Kind.HTTP_500, Fault.Kind.HTTP_504,
              Fault.Kind.HTTP_429}
HTTP_STATUS = {Fault.Kind.HTTP_500: 500, Fault.Kind.HTTP_504: 504, Fault.Kind.HTTP_429: 429}


@dataclass(frozen=True)
class FaultHit:
    kind: str
    seconds: float
    after_processing: bool


def take(operation: str, kinds) -> FaultHit | None:
    kinds = set(kinds)
    with transaction.atomic():
        rules = list(Fault.objects.select_for_update().filter(kind__in=kinds).order_by("id"))
        for rule in rules:
            if rule.scope and not operation.startswith(rule.scope):
                continue
            if rule.remaining is not None and rule.remaining <= 0:
                continue
            if rule.ratio < 1.0 and random.random() >= rule.ratio:
                continue
            updates = {"hits": F("hits") + 1}
            if rule.remaining is not None:
                updates["remaining"] = F("remaining") - 1
            Fault.objects.filter(pk=rule.pk).update(**updates)
            return FaultHit(kind=rule.kind, seconds=rule.seconds,
                            after_processing=rule.after_processing)
    return None


def sleep_without_connection(seconds: float) -> None:
    """Sleep without holding a database connection (a hung request must not pin one)."""
    if seconds <= 0:
        return
    if not connection.in_atomic_block:
        connection.close()
    time.sleep(seconds)
    close_old_connections()
