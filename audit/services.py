"""Writing the audit trail. Call inside the service's ``transaction.atomic()`` block."""
from typing import Any

from django.db import models

from .models import AuditEntry


def audit_record(
    *, actor, action: str, target: models.Model, reason: str = "", data: dict[str, Any] | None = None
) -> AuditEntry:
    """Record that ``actor`` (a user, or ``None`` for the system) did ``action`` to ``target``.

    The row names its target for staff (``object_repr``): ``target.audit_label`` where the model
    gives one, else ``str(target)``. Models whose text is a person's own words about an offer or a
    claim (a plan's or a link's title, what a buyer says was missing) give a label without them:
    the audit trail is kept for its own, longer period (``privacy.retention.AUDIT_TRAIL``) and is
    never rewritten, while those words go earlier (``privacy.purge``, erasure)."""
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
        object_repr=str(getattr(target, "audit_label", None) or target)[:200],
        reason=reason,
        data=data or {},
    )
