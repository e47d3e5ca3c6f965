import logging

from celery import shared_task

from accounts.roles import FINANCE, mail_group

from .checks import ledger_breaches

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def nightly_ledger_check() -> int:
    """Run the invariant checks; alert the Finance group by email when the books do not add up.

    With nobody in Finance the alert goes to ADMINS instead: a breach must never go unheard.
    """
    breaches = ledger_breaches()
    if breaches:
        logger.error("ledger check found %d breach(es)", len(breaches))
        mail_group(FINANCE, "Ledger check failed", "\n".join(str(b) for b in breaches))
    return len(breaches)
