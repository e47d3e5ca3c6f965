import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins, send_mail

from .checks import ledger_breaches

logger = logging.getLogger(__name__)

# The staff who own the books (accounts/migrations/0003_staff_roles.py).
FINANCE_GROUP = "Finance"


def _finance_emails() -> list[str]:
    return sorted(set(get_user_model().objects.filter(groups__name=FINANCE_GROUP, is_active=True)
                      .exclude(email="").values_list("email", flat=True)))


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def nightly_ledger_check() -> int:
    """Run the invariant checks; alert the Finance group by email when the books do not add up.

    With nobody in Finance the alert goes to ADMINS instead: a breach must never go unheard.
    """
    breaches = ledger_breaches()
    if breaches:
        logger.error("ledger check found %d breach(es)", len(breaches))
        subject, body = "Ledger check failed", "\n".join(str(b) for b in breaches)
        recipients = _finance_emails()
        if recipients:
            send_mail(f"{settings.EMAIL_SUBJECT_PREFIX}{subject}", body, settings.SERVER_EMAIL, recipients)
        else:
            mail_admins(subject, body)
    return len(breaches)
