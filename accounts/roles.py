"""Staff roles (Django groups created by accounts/migrations/0003_staff_roles.py) and how to
reach the people in them."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins, send_mail

CUSTOMER_SERVICE = "Customer service"
DISPUTE_OFFICER = "Dispute officer"
FINANCE = "Finance"


def group_emails(group: str) -> list[str]:
    return sorted(set(get_user_model().objects.filter(groups__name=group, is_active=True)
                      .exclude(email="").values_list("email", flat=True)))


def mail_group(group: str, subject: str, body: str) -> int:
    """Email every active member of ``group``; with nobody in it, ADMINS, so an alert is never lost."""
    recipients = group_emails(group)
    if not recipients:
        mail_admins(subject, body)
        return 0
    return send_mail(f"{settings.EMAIL_SUBJECT_PREFIX}{subject}", body, settings.SERVER_EMAIL, recipients)
