"""Thin periodic job of milestone plans: load ids, call the service."""
import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def open_due_milestones() -> int:
    """Milestone by milestone: open each next milestone whose previous one was confirmed or is due.
    Safe twice or concurrently: the service locks the plan and refuses a milestone already open."""
    opened = 0
    for plan_id, position in services.milestones_due_to_open():
        try:
            services.milestone_open(plan=plan_id, position=position, actor=None)
        except services.MilestonePlanError as exc:
            logger.info("milestone %s/%s not opened: %s", plan_id, position, exc.code)
        else:
            opened += 1
    return opened
