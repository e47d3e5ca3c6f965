from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    """The partner API (``/api/v1/``): forums and marketplaces that create escrow transactions for
    sellers who linked their INTRASA account, and receive signed webhooks about them.

    It sits at the top of the import direction (DESIGN.md §2), beside pages and escrow: it calls the
    same transaction services as the website (no second path for any state or money change), and
    nothing below imports it. It hears about transitions through one optional listener on the
    transaction timeline (``partners.listeners``), which only writes webhook event rows."""

    name = "partners"
    verbose_name = _("Partner API")

    def ready(self):
        from django.db.models.signals import post_save

        from transactions.models import TransactionEvent

        from .listeners import timeline_event_saved

        post_save.connect(timeline_event_saved, sender=TransactionEvent, dispatch_uid="partners.timeline_event_saved")

        # privacy sits below partners (DESIGN.md §2) and cannot import it: the app hands privacy
        # its archive section and its erasure step instead.
        from privacy.export import section_register
        from privacy.services import erasure_step_register

        from .privacy_export import SECTION, erase

        section_register(SECTION)
        erasure_step_register("partners", erase)
