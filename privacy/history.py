"""The history of a person's name, phone and email, whichever path changes them.

The profile page (``accounts``), the staff admin and this app's email change all save the ``User``
row; a listener on that save records old → new in ``ProfileChange`` in the same database
transaction. A listener is the right tool here (DESIGN.md §3: signals for optional listeners): the
history must not depend on every present and future caller remembering to write it, and no money
depends on it. Who made the change comes from the request being served (``acting``, set by
``privacy.middleware``), the way django-simple-history does it; outside a request (a task, the
shell) it is "system".
"""
import contextlib
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save

TRACKED_FIELDS = ("full_name", "phone", "email")

# (the user acting or None, where: "website", "admin", ...)
_actor: ContextVar[tuple | None] = ContextVar("privacy_actor", default=None)
# True while an erasure pseudonymises the row: its old values go to RetainedIdentity instead.
_suppressed: ContextVar[bool] = ContextVar("privacy_history_suppressed", default=False)


@contextlib.contextmanager
def acting(actor_getter, *, via: str):
    """Attribute profile changes made inside the block to ``actor_getter()`` (a callable, so a
    request's lazy user is only loaded if something changes)."""
    token = _actor.set((actor_getter, via))
    try:
        yield
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def history_suppressed():
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def _current_actor():
    context = _actor.get()
    if context is None:
        return None, "system"
    getter, via = context
    actor = getter()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, via
    return actor, via


def _remember_previous(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or _suppressed.get():
        return
    fields = [name for name in TRACKED_FIELDS if update_fields is None or name in update_fields]
    if not fields:
        return
    instance._privacy_previous = sender.objects.filter(pk=instance.pk).values(*fields).first()


def _record_changes(sender, instance, created=False, raw=False, **kwargs):
    from .models import ProfileChange

    previous = instance.__dict__.pop("_privacy_previous", None)
    if created or raw or not previous or _suppressed.get():
        return
    changed = [(name, old, getattr(instance, name)) for name, old in previous.items()
               if old != getattr(instance, name)]
    if not changed:
        return
    actor, via = _current_actor()
    if actor is None:
        role = ProfileChange.Role.SYSTEM
    elif actor.pk == instance.pk:
        role = ProfileChange.Role.SELF
    else:
        role = ProfileChange.Role.STAFF if actor.is_staff else ProfileChange.Role.SYSTEM
    ProfileChange.objects.bulk_create([
        ProfileChange(user=instance, field=name, old_value=old or "", new_value=new or "",
                      changed_by=actor, changed_by_role=role, via=via)
        for name, old, new in changed
    ])


def connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_remember_previous, sender=user_model, dispatch_uid="privacy.history.pre_save")
    post_save.connect(_record_changes, sender=user_model, dispatch_uid="privacy.history.post_save")
