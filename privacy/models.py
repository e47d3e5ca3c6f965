"""Records of how INTRASA honours the personal-data rights of UU PDP.

* ``LoginRecord``: each successful login (the app kept only ``last_login`` before).
* ``ProfileChange``: the history of a person's name, phone and email (old → new, when, by whom).
* ``ConsentEvent``: every grant and withdrawal of a consent, with the wording shown (proof).
* ``EmailChangeRequest``: a new address waiting for its owner to prove they read it.
* ``PersonalDataExport``: an archive of everything held about a person, with its expiry.
* ``StaffAccessLog``: who on the staff opened which personal record, when and why. Append-only:
  the model refuses changes, the admin offers none, and on PostgreSQL a trigger refuses UPDATE and
  DELETE (migration 0002) except for the retention job's purge of rows past their period.
* ``ErasureRecord`` and ``RetainedIdentity``: an erased account, and the identity that
  anti-money-laundering law requires to be kept apart from it (``privacy.retention``).
* ``RetentionRun``: what each run of the retention job removed.

Periods live in ``privacy.retention``, nowhere else.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from intrasa.uploads import private_storage

from .consents import CHOICES as CONSENT_CHOICES


class LoginRecord(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    at = models.DateTimeField(_("logged in at"), db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser (user agent)"), max_length=300, blank=True)
    # Lets an erasure end exactly this session. Never exported or shown: Django's own session
    # table holds the same key, so this adds no new exposure.
    session_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("login record")
        verbose_name_plural = _("login records")
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.at:%Y-%m-%d %H:%M}"


class ProfileChange(models.Model):
    class Field(models.TextChoices):
        FULL_NAME = "full_name", _("Name")
        PHONE = "phone", _("Mobile number")
        EMAIL = "email", _("Email address")

    class Role(models.TextChoices):
        SELF = "self", _("You")
        STAFF = "staff", _("INTRASA staff")
        SYSTEM = "system", _("System")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    field = models.CharField(_("field"), max_length=20, choices=Field.choices)
    old_value = models.CharField(_("old value"), max_length=254, blank=True)
    new_value = models.CharField(_("new value"), max_length=254, blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("changed by"))
    changed_by_role = models.CharField(_("changed by"), max_length=10, choices=Role.choices)
    via = models.CharField(_("where"), max_length=30, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")

    def __str__(self) -> str:
        return f"{self.user_id} {self.field} {self.changed_at:%Y-%m-%d}"


class ConsentEvent(models.Model):
    """One grant or withdrawal. The current state of a purpose is its latest event; no event
    means not consented."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    purpose = models.CharField(_("purpose"), max_length=30, choices=CONSENT_CHOICES)
    granted = models.BooleanField(_("granted"))
    wording = models.TextField(_("wording shown"))
    language = models.CharField(_("language"), max_length=8)
    via = models.CharField(_("where"), max_length=30)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self) -> str:
        return f"{self.user_id} {self.purpose} {'+' if self.granted else '-'} {self.at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Consent records are append-only.")
        super().save(*args, **kwargs)


class EmailChangeRequest(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    new_email = models.EmailField(_("new email address"))
    # SHA-256 of the emailed token: a copy of this table cannot confirm anything.
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"), db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("email change request")
        verbose_name_plural = _("email change requests")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.new_email}"


class PersonalDataExport(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready to download")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    status = FSMField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, protected=True,
                              db_index=True)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("download until"), null=True, blank=True, db_index=True)
    file = models.FileField(_("archive"), storage=private_storage, upload_to="exports", max_length=200,
                            blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    downloaded_at = models.DateTimeField(_("last downloaded at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("personal data export")
        verbose_name_plural = _("personal data exports")

    def __str__(self) -> str:
        return f"{self.user_id} {self.requested_at:%Y-%m-%d %H:%M} {self.status}"

    # --- transitions (bodies empty: privacy.services sets the fields) ----------------------------

    @transition(field=status, source=Status.PENDING, target=Status.READY)
    def mark_ready(self):
        """The archive is built and stored: the person may download it until it expires."""

    @transition(field=status, source=Status.PENDING, target=Status.FAILED)
    def mark_failed(self):
        """Building the archive failed; the person may ask again."""


class StaffAccessLogQuerySet(models.QuerySet):
    """Bulk changes are refused too: ``update()`` and ``delete()`` would bypass ``save()``."""

    def update(self, **kwargs):
        raise ValueError("The staff access log is append-only.")

    def delete(self):
        raise ValueError("The staff access log is append-only; the retention job purges it.")

    def _purge(self):
        """Delete these rows: only ``privacy.purge`` calls this, for rows past their period."""
        return super().delete()


class StaffAccessLog(models.Model):
    class Kind(models.TextChoices):
        EVIDENCE = "evidence", _("Dispute evidence file")
        REFUND_DOCUMENT = "refund_document", _("Refund document file")
        USER_PROFILE = "user_profile", _("User profile")
        PAYOUT_DESTINATION = "payout_destination", _("Payout destination")
        BANK_STATEMENT_LINE = "bank_statement_line", _("Bank statement line")
        REFUND_REQUEST = "refund_request", _("Refund request")
        DISPUTE = "dispute", _("Dispute")
        RETAINED_IDENTITY = "retained_identity", _("Identity of an erased account")

    # A default, not auto_now_add: an import of an older log (or a test) may give the time.
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("staff member"))
    staff_label = models.CharField(_("staff member"), max_length=254)
    kind = models.CharField(_("what"), max_length=30, choices=Kind.choices, db_index=True)
    object_id = models.CharField(_("record"), max_length=64)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("whose data"))
    reason = models.TextField(_("reason"), blank=True)
    path = models.CharField(_("page"), max_length=300)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = StaffAccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("staff access")
        verbose_name_plural = _("staff access log")
        indexes = [models.Index(fields=["subject", "at"]), models.Index(fields=["kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.staff_label} {self.kind} #{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The staff access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The staff access log is append-only; the retention job purges it.")


class ErasureRecord(models.Model):
    """An account erased at its owner's request: the proof that the request was honoured and what
    was kept. ``confirmation_email`` holds the old address only until the confirmation email is
    sent, or given up on (the identity itself, when kept, is in ``RetainedIdentity``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("account"))
    erased_at = models.DateTimeField(_("erased at"), db_index=True)
    kept = models.JSONField(_("what was kept"), default=list)
    language = models.CharField(_("language"), max_length=8)
    confirmation_email = models.EmailField(_("confirmation sent to"), blank=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent at"), null=True, blank=True)
    # A worker's claim on sending the confirmation (privacy.services.erasure_confirmation_send).
    confirmation_claimed_at = models.DateTimeField(_("confirmation being sent since"), null=True, blank=True,
                                                   editable=False)
    # Failed sends so far, when the next may be tried, and when it was given up on (the address is
    # then forgotten): one that always fails is tried less and less often (notifications.backoff).
    confirmation_attempts = models.PositiveSmallIntegerField(_("failed confirmation attempts"), default=0,
                                                             editable=False)
    confirmation_retry_at = models.DateTimeField(_("confirmation to be tried again at"), null=True, blank=True,
                                                 editable=False)
    confirmation_failed_at = models.DateTimeField(_("confirmation given up at"), null=True, blank=True,
                                                  editable=False)

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = _("erased account")
        verbose_name_plural = _("erased accounts")

    def __str__(self) -> str:
        return f"#{self.user_id} {self.erased_at:%Y-%m-%d}"


class RetainedIdentity(models.Model):
    """Who an erased account belonged to, kept apart from it for the anti-money-laundering period.
    Opening one in the admin asks for a reason and is logged."""

    erasure = models.OneToOneField(ErasureRecord, on_delete=models.CASCADE, related_name="identity",
                                   verbose_name=_("erased account"))
    full_name = models.CharField(_("full name"), max_length=150)
    email = models.EmailField(_("email address"))
    phone = models.CharField(_("mobile number"), max_length=20, blank=True)
    delete_after = models.DateTimeField(_("delete after"), db_index=True)

    class Meta:
        ordering = ["delete_after"]
        verbose_name = _("retained identity")
        verbose_name_plural = _("retained identities")

    def __str__(self) -> str:
        return f"#{self.erasure.user_id}"


class RetentionRun(models.Model):
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    as_of = models.DateTimeField(_("periods measured at"))
    removed = models.JSONField(_("removed per kind"), default=dict)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}: {sum(self.removed.values())}"
