"""Emails to the members of the "Finance" group (accounts/migrations/0003_staff_roles.py)."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins, send_mail

FINANCE_GROUP = "Finance"


def finance_recipients() -> list[str]:
    return sorted(set(get_user_model().objects.filter(groups__name=FINANCE_GROUP, is_active=True)
                      .exclude(email="").values_list("email", flat=True)))


def mail_finance(subject: str, body: str) -> int:
    """Send to Finance; with nobody in the group, fall back to ADMINS so the alert is never lost."""
    recipients = finance_recipients()
    if not recipients:
        mail_admins(subject, body)
        return 0
    return send_mail(f"{settings.EMAIL_SUBJECT_PREFIX}{subject}", body, settings.SERVER_EMAIL, recipients)
