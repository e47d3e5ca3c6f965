"""Writing the audit trail. Call inside the service's ``transaction.atomic()`` block."""
from typing import Any

from django.db import models

from .models import AuditEntry


def audit_record(
    *, actor, action: str, target: models.Model, reason: str = "", data: dict[str, Any] | None = None
) -> AuditEntry:
    """Record that ``actor`` (a user, or ``None`` for the system) did ``action`` to ``target``."""
    if actor is None:
        label = "system"
    else:
        label = actor.get_username()
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=label,
        action=action,
        object_type=target._meta.label,
        object_id=str(target.pk),
        object_repr=str(target)[:200],
        reason=reason,
        data=data or {},
    )
