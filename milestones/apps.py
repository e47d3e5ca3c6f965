from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MilestonesConfig(AppConfig):
    """Owns the milestone (termin) plan: a contract that groups one ordinary escrow transaction per
    milestone (``milestones.services``)."""

    name = "milestones"
    verbose_name = _("Milestone plans")
