"""Celery tasks of the sandbox: thin, idempotent, ids only (DESIGN.md §3).

- ``sandbox.tasks.deliver_callback`` — one delivery attempt; retries itself after
  ``SandboxConfig.callback_retry_seconds`` until ``callback_max_attempts`` (eagerly, in tests, the
  task waits and retries in place).
- ``sandbox.tasks.sweep`` — periodic (every 10 s in CELERY_BEAT_SCHEDULE): settles transfers whose
  delay has passed, sends their callbacks, re-tries due callbacks whose task was lost.
"""
import time

from celery import shared_task

from . import services
from .callbacks import callback_attempt


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_callback(self, callback_id: int) -> None:
    while (retry_in := callback_attempt(callback_id=callback_id)) is not None:
        if not self.request.is_eager:
            raise self.retry(countdown=retry_in)
        # Eager mode (tests): Celery's eager retry re-raises under EAGER_PROPAGATES, so wait here.
        time.sleep(retry_in)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep() -> dict:
    from django.conf import settings

    if not settings.FASPAY_SANDBOX_ENABLED:  # the beat schedule is the same everywhere
        return {}
    return services.sandbox_tick(grace_seconds=30)
