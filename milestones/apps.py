from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MilestonesConfig(AppConfig):
    """Owns the milestone (termin) plan: a contract that groups one ordinary escrow transaction per
    milestone (``milestones.services``)."""

    name = "milestones"
    verbose_name = _("Milestone plans")

    def ready(self):
        # privacy sits below milestones (DESIGN.md §2) and cannot import it: the app hands privacy
        # its archive section, its erasure blocker and its erasure step instead.
        from privacy.export import section_register
        from privacy.selectors import erasure_blocker_register
        from privacy.services import erasure_step_register

        from .privacy_export import SECTION, erase, erasure_blockers

        section_register(SECTION)
        erasure_blocker_register("milestones", erasure_blockers)
        erasure_step_register("milestones", erase, before_account_lock=True)  # plans lock before users
