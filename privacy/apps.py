from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Owns personal data as UU No. 27/2022 (PDP) expects: the retention table, export,
    correction history, erasure, consents, the staff access log and the retention job.

    It sits at the top of the import direction (DESIGN.md §2) beside pages, documents and treasury:
    it reads every other app; no other app imports it (they reach it through URLs and templates).
    """

    name = "privacy"
    verbose_name = _("Personal data")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import history
        from .services import login_record_from_signal

        history.connect()
        user_logged_in.connect(login_record_from_signal, dispatch_uid="privacy.login_record")
