import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import mail_admins

from .checks import ledger_breaches

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def nightly_ledger_check() -> int:
    """Run the invariant checks; alert staff by email when the books do not add up."""
    breaches = ledger_breaches()
    if breaches:
        logger.error("ledger check found %d breach(es)", len(breaches))
        mail_admins("Ledger check failed", "\n".join(str(b) for b in breaches))
    return len(breaches)
