from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Owns telling people things: email and the in-app notification list, once per event."""

    name = "notifications"
    verbose_name = _("Notifications")
