from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MilestonesConfig(AppConfig):
    """Owns the milestone (termin) plan: a contract that groups one ordinary escrow transaction per
    milestone (``milestones.services``)."""

    name = "milestones"
    verbose_name = _("Milestone plans")

    def ready(self):
        # privacy sits below milestones (DESIGN.md §2) and cannot import it: the app hands privacy
        # its archive section, its erasure blocker, its erasure step and its retention step instead.
        from ledger.checks import register_cross_check
        from payments.selectors import bill_group_register
        from privacy.export import section_register
        from privacy.purge import purge_step_register
        from privacy.selectors import erasure_blocker_register
        from privacy.services import erasure_step_register

        from .checks import plan_breaches
        from .privacy_export import SECTION, erase, erasure_blockers, purge
        from .selectors import upfront_billed_together

        section_register(SECTION)
        erasure_blocker_register("milestones", erasure_blockers)
        erasure_step_register("milestones", erase, before_account_lock=True)  # plans lock before users
        purge_step_register("milestones", purge)
        # An up-front plan is paid with one bill for all its milestones; payments asks who is billed together.
        bill_group_register(upfront_billed_together)
        register_cross_check(plan_breaches)
