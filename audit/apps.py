from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """Owns the audit trail: who did what to which object, when and why (DESIGN.md §4.6)."""

    name = "audit"
    verbose_name = _("Audit log")
