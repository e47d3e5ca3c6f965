from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from intrasa.money import amounts_on_one_line


class Notification(models.Model):
    """One message to one person about one event.

    ``event_key`` is unique: the same event (``"txn:INT-…:verified:seller"``) can never produce a
    second notification, however often a service or a task runs. The row is both the in-app
    notification (for a user) and the outbox of its email.
    """

    event_key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="notifications", verbose_name=_("recipient"),
    )
    # For people without an account yet (an invited buyer).
    email = models.EmailField(_("email"))
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE)
    kind = models.CharField(_("kind"), max_length=50)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    # What the message was written from (the values of the named fields ``%(name)s`` of ``notifications.messages``), so that the
    # in-app copy is shown in the reader's language, not only the one it was stored in. Times keep
    # their instant ({"wib": iso, "with_time": bool}) and are said again in that language. Rows
    # from before this field have no params: they show the stored subject and body.
    params = models.JSONField(_("message parameters"), default=dict, blank=True, editable=False)
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    email_sent_at = models.DateTimeField(_("email sent at"), null=True, blank=True)
    # A worker's claim on sending the email (notifications.tasks): set before SMTP, outside any lock.
    email_claimed_at = models.DateTimeField(_("email being sent since"), null=True, blank=True, editable=False)
    # Failed sends so far, when the next may be tried, and when the email was given up on
    # (notifications.backoff): one that always fails is tried less and less often, then never again.
    email_attempts = models.PositiveSmallIntegerField(_("failed email attempts"), default=0, editable=False)
    email_retry_at = models.DateTimeField(_("email to be tried again at"), null=True, blank=True, editable=False)
    email_failed_at = models.DateTimeField(_("email given up at"), null=True, blank=True, editable=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # The sweep (notifications.tasks.send_pending_emails, every 5 minutes) reads the emails still
            # to send, lowest id first: a few rows, not the whole table of sent ones.
            models.Index(fields=["id"], name="notification_email_to_send",
                         condition=models.Q(email_sent_at__isnull=True, email_failed_at__isnull=True)),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.kind} → {self.email}"

    def _rendered(self, index: int, stored: str) -> str:
        from .messages import render_message

        text = render_message(self.kind, self.params, index) if self.params else None
        # On the page "Rp" stays on the line of its digits, as everywhere else (a no-break space).
        return amounts_on_one_line(stored if text is None else text)

    @property
    def display_subject(self) -> str:
        """The subject in the active language (the reader's), or as stored when it cannot be."""
        return self._rendered(0, self.subject)[:200]

    @property
    def display_body(self) -> str:
        return self._rendered(1, self.body)
