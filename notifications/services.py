"""Creating notifications. Call inside the service's atomic block; the email goes after commit."""
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from .messages import MESSAGES, message_params
from .models import Notification

logger = logging.getLogger(__name__)


def notify(
    *, event_key: str, kind: str, context: dict, recipient=None, email: str = "", link: str = "",
    language: str = "",
) -> Notification:
    """Record one notification for one event (idempotent on ``event_key``) and email it after commit.

    ``language`` is for an email to an address without its account as recipient (no in-app copy),
    written in the language of the person it is meant for."""
    existing = Notification.objects.filter(event_key=event_key).first()
    if existing is not None:
        return existing
    if not language:
        language = recipient.preferred_language if recipient is not None else settings.LANGUAGE_CODE
    subject_template, body_template = MESSAGES[kind]
    with translation.override(language):
        subject = str(subject_template).format(**context)
        body = str(body_template).format(**context)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                event_key=event_key, kind=kind, recipient=recipient,
                email=email or (recipient.email if recipient else ""), language=language,
                subject=subject[:200], body=body, params=message_params(context), link=link,
            )
    except IntegrityError:
        return Notification.objects.get(event_key=event_key)
    transaction.on_commit(lambda: _enqueue_email(notification.pk))
    return notification


def _enqueue_email(notification_id: int) -> None:
    """Hand the email to Celery; if the broker is down the row stays unsent and the periodic
    ``send_pending_emails`` job picks it up, so the person's request never fails for it."""
    from .tasks import send_notification_email

    try:
        send_notification_email.delay(notification_id)
    except Exception:  # noqa: BLE001 - any broker failure; the outbox row is the retry
        logger.exception("could not enqueue notification %s; the periodic job will send it", notification_id)


def notification_mark_read(*, user, notification_ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())
