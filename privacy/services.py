"""Every change this app makes: login records, data archives, email changes, consents, erasure and
the staff access log. (The retention job is ``privacy.purge``; the periods are ``privacy.retention``.)

Each function runs in ``transaction.atomic()``, locks the person's ``User`` row first when it changes
their account (the same lock order as ``accounts.services``), writes its audit row in the same
transaction and sends emails after commit. A refused request raises ``PrivacyError`` with a message
for people.
"""
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import tempfile
import uuid
import zipfile
from typing import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.models import PayoutDestination
from accounts.validators import canonical_email
from audit.models import AuditEntry
from audit.services import audit_record
from disbursements.models import Disbursement
from documents.rendering import render_pdf
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.jobs import enqueue
from intrasa.ratelimit import client_ip
from intrasa.sessions import sessions_end
from intrasa.wib import format_wib, to_wib
from notifications import backoff
from notifications.models import Notification
from notifications.services import notify
from paylinks import services as paylink_services
from paylinks.models import PaymentLink
from refunds.models import RefundRequest
from transactions.models import CLOSED_STATES, EscrowTransaction

from . import consents, retention
from . import export as export_module
from .history import acting, history_suppressed
from .models import (
    ConsentEvent,
    EmailChangeRequest,
    ErasureRecord,
    LoginRecord,
    PersonalDataExport,
    ProfileChange,
    RetainedIdentity,
    StaffAccessLog,
)
from .purge import ANONYMISED

logger = logging.getLogger(__name__)

# A person may ask for this many archives per day (building one renders a PDF of everything).
EXPORTS_PER_DAY = 5
# Each email-change request sends an email to an address the person typed.
EMAIL_CHANGES_PER_DAY = 3
ERASED_NAME = "Pengguna terhapus #{pk}"
# RFC 2606 reserves .invalid: nothing is ever delivered there, and the account id keeps it unique.
ERASED_EMAIL = "terhapus-{pk}@pengguna-terhapus.invalid"


class PrivacyError(ServiceError):
    """A refused request about personal data; nothing changed."""


def _lock_user(user):
    return locks.lock(get_user_model(), user.pk)


# --- login records ----------------------------------------------------------------------------

def login_record_create(*, user, ip_address: str | None, user_agent: str, session_key: str) -> LoginRecord:
    return LoginRecord.objects.create(user=user, at=timezone.now(), ip_address=ip_address,
                                      user_agent=(user_agent or "")[:300], session_key=session_key or "")


def login_record_from_signal(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` listener: every successful login (website and admin) is recorded."""
    if request is None:
        return
    ip = client_ip(request)
    session = getattr(request, "session", None)
    login_record_create(
        user=user, ip_address=ip if ip != "unknown" else None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        session_key=(session.session_key or "") if session is not None else "",
    )


# --- data archive -----------------------------------------------------------------------------

def export_request(*, user) -> PersonalDataExport:
    """Ask for an archive of everything INTRASA holds about ``user``; a task builds it."""
    with transaction.atomic():
        locked = _lock_user(user)
        mine = PersonalDataExport.objects.filter(user=locked)
        if mine.filter(status=PersonalDataExport.Status.PENDING).exists():
            raise PrivacyError(_("Your archive is already being prepared. We will tell you when it is ready."),
                               code="pending")
        if mine.filter(requested_at__gte=timezone.now() - dt.timedelta(days=1)).count() >= EXPORTS_PER_DAY:
            raise PrivacyError(_("You asked for %(count)d archives in the last 24 hours. Please download the "
                                 "latest one or try again tomorrow.") % {"count": EXPORTS_PER_DAY},
                               code="too_many")
        export = PersonalDataExport.objects.create(user=locked)
        audit_record(actor=locked, action="privacy.export_request", target=export)
        enqueue("privacy.tasks.build_personal_data_export", export.pk)
    return export


class _ArchiveEncoder(DjangoJSONEncoder):
    """Times in WIB with their offset (as the Cek Transaksi API writes them), lazy text as text."""

    def default(self, value):
        if isinstance(value, dt.datetime):
            return to_wib(value).isoformat()
        if isinstance(value, Promise):
            return str(value)
        return super().default(value)


README = """INTRASA — {title}
{generated}

data.json   {json}
{pdf}   {pdf_text}
files/      {files}
"""


def _build_archive(user) -> tuple[str, str, int]:
    """Write the ZIP to a temporary file; return (path, sha256, size). No database writes."""
    language = user.preferred_language
    with translation.override(language):
        document, files = export_module.collect(user)
        pdf = render_pdf("privacy/export_pdf.html", {
            "user": user, "document": document, "sections": export_module.present(document),
            "notes": document["notes"],
        }, language=language)
        pdf_name = _("INTRASA-personal-data.pdf")
        readme = README.format(
            title=_("Your personal data"), generated=format_wib(document["generated_at"]),
            json=_("everything, machine-readable (JSON)"), pdf=pdf_name, pdf_text=_("the same, to read and print"),
            files=_("the files you uploaded"),
        )
    handle, path = tempfile.mkstemp(prefix="intrasa-export-", suffix=".zip")
    os.close(handle)
    storage = PersonalDataExport._meta.get_field("file").storage
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        archive.writestr("data.json", json.dumps(document, cls=_ArchiveEncoder, ensure_ascii=False, indent=2))
        archive.writestr(pdf_name, pdf)
        for item in files:
            try:
                with storage.open(item.storage_name, "rb") as source:
                    archive.writestr(item.archive_path, source.read())
            except FileNotFoundError:
                logger.warning("export of user %s: file %s is missing from storage", user.pk, item.storage_name)
    digest = hashlib.sha256()
    with open(path, "rb") as built:
        for chunk in iter(lambda: built.read(1024 * 1024), b""):
            digest.update(chunk)
    return path, digest.hexdigest(), os.path.getsize(path)


def export_build(*, export_id: int) -> PersonalDataExport | None:
    """Build a requested archive, store it privately and tell its owner. Safe to run twice or
    concurrently: the archive is built without locks, and only the first to finish stores it."""
    export = PersonalDataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != PersonalDataExport.Status.PENDING:
        return export
    user = export.user
    try:
        path, sha256, size = _build_archive(user)
    except Exception as exc:  # noqa: BLE001 - any failure: the person may ask again
        logger.exception("could not build personal data export %s", export_id)
        with transaction.atomic():
            locked = locks.lock(PersonalDataExport, export_id)
            if locked.status == PersonalDataExport.Status.PENDING:
                locked.mark_failed()
                locked.error = str(exc)[:255]
                locked.save(update_fields=["status", "error"])
        return locked
    storage = PersonalDataExport._meta.get_field("file").storage
    try:
        with open(path, "rb") as built:
            stored_name = storage.save(f"exports/{uuid.uuid4().hex}.zip", File(built))
    finally:
        os.unlink(path)
    try:
        with transaction.atomic():
            locked = locks.lock(PersonalDataExport, export_id)
            if locked.status != PersonalDataExport.Status.PENDING:
                storage.delete(stored_name)  # another worker finished first
                return locked
            now = timezone.now()
            locked.file.name = stored_name
            locked.mark_ready()
            locked.ready_at = now
            locked.expires_at = retention.DATA_EXPORTS_PERIOD.until(now)
            locked.sha256, locked.size = sha256, size
            locked.save(update_fields=["file", "status", "ready_at", "expires_at", "sha256", "size"])
            with translation.override(user.preferred_language):
                notify(event_key=f"privacy:export:{locked.pk}:ready", kind="data_export_ready", recipient=user,
                       context={"expires": format_wib(locked.expires_at)}, link=reverse("privacy:my_data"))
    except Exception:
        storage.delete(stored_name)
        raise
    return locked


def export_download(*, export: PersonalDataExport, user) -> PersonalDataExport:
    """Check that ``user`` may download ``export`` now and note the download."""
    if export.user_id != user.pk:
        raise PrivacyError(_("This archive is not yours."), code="not_owner")
    now = timezone.now()
    if (export.status != PersonalDataExport.Status.READY or not export.file or export.expires_at is None
            or export.expires_at <= now):
        raise PrivacyError(_("This download link has expired. Ask for a new archive below."), code="expired")
    PersonalDataExport.objects.filter(pk=export.pk).update(downloaded_at=now)
    return export


# --- email change -----------------------------------------------------------------------------

def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mask_email(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:2]}{'*' * max(len(local) - 2, 1)}@{domain}"


def email_change_request(*, user, new_email: str) -> EmailChangeRequest:
    """Send a confirmation link to ``new_email``; the address changes only when its owner opens it
    while logged in (UU PDP Pasal 6 and 30: correct data, but make sure it is correct). The current
    address is warned, in case someone else is at the keyboard. The password was checked by the form."""
    user_model = get_user_model()
    new_email = user_model.objects.normalize_email((new_email or "").strip()).lower()
    with transaction.atomic():
        locked = _lock_user(user)
        if new_email == locked.email.lower():
            raise PrivacyError(_("This is already your email address."), code="same")
        if user_model.objects.filter(email__iexact=new_email).exclude(pk=locked.pk).exists():
            raise PrivacyError(_("Another account already uses this email address."), code="taken")
        # Counted from the audit trail: older requests are deleted when a new one replaces them.
        recent = AuditEntry.objects.filter(actor=locked, action="privacy.email_change_request",
                                           created_at__gte=timezone.now() - dt.timedelta(days=1))
        if recent.count() >= EMAIL_CHANGES_PER_DAY:
            raise PrivacyError(_("You asked to change your email address %(count)d times in the last 24 hours. "
                                 "Please try again tomorrow.") % {"count": EMAIL_CHANGES_PER_DAY}, code="too_many")
        # Only the newest link works: an older one may have gone to a mistyped address.
        EmailChangeRequest.objects.filter(user=locked, confirmed_at__isnull=True).delete()
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        change = EmailChangeRequest.objects.create(
            user=locked, new_email=new_email, token_digest=_token_digest(token),
            expires_at=retention.EMAIL_CHANGES_PERIOD.until(now),
        )
        audit_record(actor=locked, action="privacy.email_change_request", target=locked,
                     data={"new_email": _mask_email(new_email)})
        context = {"name": locked.get_short_name(), "email": new_email, "masked": _mask_email(new_email),
                   "expires": "", "at": ""}
        with translation.override(locked.preferred_language):
            context["expires"] = format_wib(change.expires_at)
            context["at"] = format_wib(now)
        # To the new address only, without an in-app copy: the link must prove the mailbox, so it
        # cannot be reachable from the account itself.
        notify(event_key=f"privacy:email_change:{change.pk}:verify", kind="email_change_verify", email=new_email,
               language=locked.preferred_language, context=context,
               link=reverse("privacy:email_confirm", kwargs={"token": token}))
        notify(event_key=f"privacy:email_change:{change.pk}:requested", kind="email_change_requested",
               recipient=locked, context=context)
    return change


def email_change_confirm(*, user, token: str):
    """Apply the new address if ``token`` is the live link of ``user``'s newest request."""
    user_model = get_user_model()
    with transaction.atomic():
        locked = _lock_user(user)
        change = locks.lock_first(EmailChangeRequest.objects.filter(
            token_digest=_token_digest(token or ""), user=locked, confirmed_at__isnull=True))
        if change is None:
            raise PrivacyError(_("This confirmation link is not valid for the account you are logged in to, or it "
                                 "was replaced by a newer request."), code="invalid")
        now = timezone.now()
        if change.expires_at <= now:
            raise PrivacyError(_("This confirmation link has expired. Ask for the change again."), code="expired")
        if user_model.objects.filter(email__iexact=change.new_email).exclude(pk=locked.pk).exists():
            raise PrivacyError(_("Another account started using this email address in the meantime."), code="taken")
        old_email = locked.email
        locked.email = change.new_email
        # Opening the link proves the person reads the new mailbox.
        locked.email_verified_at = now
        try:
            with transaction.atomic():
                with acting(lambda: locked, via="email_change"):
                    locked.save(update_fields=["email", "email_verified_at"])
        except IntegrityError:
            raise PrivacyError(_("Another account started using this email address in the meantime."),
                               code="taken") from None
        change.confirmed_at = now
        change.save(update_fields=["confirmed_at"])
        audit_record(actor=locked, action="privacy.email_change_confirm", target=locked,
                     data={"new_email": _mask_email(change.new_email)})
        with translation.override(locked.preferred_language):
            at = format_wib(now)
        notify(event_key=f"privacy:email_change:{change.pk}:done", kind="email_changed", recipient=locked,
               email=old_email, context={"masked": _mask_email(change.new_email), "at": at})
    user.email = locked.email
    user.email_verified_at = locked.email_verified_at
    return user


# --- consents ---------------------------------------------------------------------------------

def consent_set(*, user, purpose: str, granted: bool, via: str = "privacy_page",
                language: str = "") -> ConsentEvent | None:
    """Record a grant or a withdrawal (Pasal 22, 24) with the wording in ``language``, the language
    the person read it in (default: their preferred one); nothing when it changes nothing."""
    if purpose not in consents.BY_KEY:
        raise PrivacyError(_("Unknown consent."), code="unknown_purpose")
    with transaction.atomic():
        locked = _lock_user(user)
        latest = ConsentEvent.objects.filter(user=locked, purpose=purpose).order_by("-at", "-id").first()
        if (latest is not None and latest.granted) == granted:
            return None
        language = language or locked.preferred_language
        with translation.override(language):
            wording = str(consents.BY_KEY[purpose].wording)
        event = ConsentEvent.objects.create(user=locked, purpose=purpose, granted=granted, wording=wording,
                                            language=language, via=via)
        audit_record(actor=locked, action="privacy.consent_grant" if granted else "privacy.consent_withdraw",
                     target=locked, data={"purpose": purpose})
    return event


# --- erasure ----------------------------------------------------------------------------------

# Erasure steps of apps above privacy, by app (DESIGN.md §2: privacy cannot import them). Each is
# called as ``step(user=...)`` inside the erasure's transaction and changes its app's rows through
# that app's own services; a refused erasure rolls them back with the rest. A step whose service
# locks rows ranked before ``accounts.User`` in ``intrasa.locks.LOCK_ORDER`` (a payment link, a
# milestone plan) registers ``before_account_lock=True``: it runs before the account is locked, as
# the lock order requires; the others run after the account's own data is handled.
_ERASURE_STEPS: dict[str, tuple[Callable[..., None], bool]] = {}


def erasure_step_register(key: str, step: Callable[..., None], *, before_account_lock: bool = False) -> None:
    """Register an app's erasure step from its ``AppConfig.ready()``; the same key again replaces it."""
    _ERASURE_STEPS[key] = (step, before_account_lock)


def _erasure_steps(*, user, before_account_lock: bool) -> None:
    for step, early in list(_ERASURE_STEPS.values()):
        if early == before_account_lock:
            step(user=user)


def account_erase(*, user):
    """Erase ``user``'s account (UU PDP Pasal 8, 43; PP 71/2019 Pasal 15–16).

    Refused while anything is open (``selectors.erasure_blockers``). Otherwise, in one transaction:
    the identity is copied apart for the anti-money-laundering period when the person transacted,
    the account is pseudonymised and disabled, sessions end, consents are withdrawn, notifications
    and other data no longer needed are removed, and what the law requires to keep stays (listed
    in ``ErasureRecord.kept`` and in the confirmation email). The ledger is not touched. Nothing
    can start a transaction in the erased account's name afterwards: its payment links are closed,
    and the registered steps of the apps above privacy revoke its partner links and withdraw the
    milestone plans it proposed that nobody answered. The offers it made that never became a
    transaction (payment links and milestone plans) are anonymised; those that did are part of the
    transaction records and stay with them until the retention job.
    """
    from .selectors import erasure_blockers, erasure_kept, former_addresses, sent_to_former_addresses

    with transaction.atomic():
        # Rows ranked before the account in the lock order are handled first (undone if refused).
        _close_payment_links(user)
        _erasure_steps(user=user, before_account_lock=True)
        locked = _lock_user(user)
        blockers = erasure_blockers(user=locked)
        if blockers:
            raise PrivacyError(" ".join(blockers), code="blocked")
        now = timezone.now()
        with translation.override(locked.preferred_language):
            kept = erasure_kept(user=locked, now=now)
        old = {"full_name": locked.full_name, "email": locked.email, "phone": locked.phone}
        # Read before the history of changes may go below.
        former = former_addresses(user=locked)
        erasure = ErasureRecord.objects.create(
            user=locked, erased_at=now, language=locked.preferred_language, confirmation_email=old["email"],
            kept=[item.to_stored() for item in kept],
        )
        transacted = EscrowTransaction.objects.filter(seller=locked).exists() or \
            EscrowTransaction.objects.filter(buyer=locked).exists()
        if transacted:
            RetainedIdentity.objects.create(erasure=erasure, delete_after=retention.IDENTITY_AFTER_ERASURE.until(now),
                                            **old)
        else:
            # Nothing to keep them for: the history of changes and the consent records go now.
            ProfileChange.objects.filter(user=locked).delete()

        for purpose in consents.PURPOSES:
            consent_set(user=locked, purpose=purpose.key, granted=False, via="erasure")
        if not transacted:
            ConsentEvent.objects.filter(user=locked).delete()

        # Sessions: those recorded at login are ended (row and cached copy); any other stops
        # working because the password hash changes and the account is inactive.
        sessions_end(LoginRecord.objects.filter(user=locked).values_list("session_key", flat=True))

        cleared = {"subject": "", "body": "", "params": {}, "email": "", "link": ""}
        Notification.objects.filter(recipient=locked).update(**cleared)
        # Emails sent to the address before it had an account (an invitation to buy).
        Notification.objects.filter(recipient__isnull=True, email__iexact=old["email"]).update(**cleared)
        # And to an address they used before changing it, while it was theirs (after, it is someone else's).
        sent_then = sent_to_former_addresses(former, email_field="email__iexact")
        if sent_then is not None:
            Notification.objects.filter(sent_then, recipient__isnull=True).update(**cleared)
        # The link sent to a new address has no recipient account: found by its event key.
        for change_id in EmailChangeRequest.objects.filter(user=locked).values_list("pk", flat=True):
            Notification.objects.filter(event_key__startswith=f"privacy:email_change:{change_id}:").update(**cleared)
        EmailChangeRequest.objects.filter(user=locked).delete()
        storage = PersonalDataExport._meta.get_field("file").storage
        for name in PersonalDataExport.objects.filter(user=locked).exclude(file="").values_list("file", flat=True):
            storage.delete(name)
        PersonalDataExport.objects.filter(user=locked).delete()
        _erase_payout_destinations(locked)
        _erasure_steps(user=locked, before_account_lock=False)
        # The invitation address of transactions they bought in is their old email: the buyer
        # link says who it was.
        EscrowTransaction.objects.filter(buyer=locked).update(buyer_email="", buyer_phone="")
        # An invitation to their address that ended without being accepted holds nothing of theirs but
        # the address. (One still open keeps it: emptied, anyone with its link could accept it. It
        # goes with the transaction records.)
        unaccepted = EscrowTransaction.objects.filter(buyer__isnull=True, status__in=CLOSED_STATES)
        unaccepted.filter(buyer_email=canonical_email(old["email"])).update(buyer_email="")
        # The same for an invitation sent to their mobile number (both normalised E.164 by the forms).
        if old["phone"]:
            unaccepted.filter(buyer_phone=old["phone"]).update(buyer_phone="")
        # And to an address or number they used before changing it, for the time it was theirs: an
        # address changes hands, so one sent to it before or after is someone else's.
        for column, sent in (("buyer_email", sent_to_former_addresses(former, email_field="buyer_email")),
                             ("buyer_phone", sent_to_former_addresses(former, phone_field="buyer_phone"))):
            if sent is not None:
                unaccepted.filter(sent).update(**{column: ""})

        with history_suppressed():
            locked.full_name = ERASED_NAME.format(pk=locked.pk)
            locked.email = ERASED_EMAIL.format(pk=locked.pk)
            locked.phone = ""
            locked.email_verified_at = None
            locked.is_active = False
            locked.last_login = None
            locked.set_unusable_password()
            locked.save()
        locked.groups.clear()
        locked.user_permissions.clear()
        audit_record(actor=None, action="privacy.account_erase", target=erasure,
                     data={"kept": erasure.kept, "identity_kept": transacted})
        transaction.on_commit(lambda: _enqueue_erasure_confirmation(erasure.pk))
    return erasure


def _erase_payout_destinations(user) -> None:
    """Unused destinations are deleted. One that money was sent to, or a refund was aimed at, is a
    payout record: archived and kept with the transaction records."""
    used = set(Disbursement.objects.filter(destination__owner=user).values_list("destination_id", flat=True))
    used |= set(RefundRequest.objects.filter(destination__owner=user).values_list("destination_id", flat=True))
    destinations = PayoutDestination.objects.filter(owner=user)
    destinations.exclude(pk__in=used).delete()
    destinations.update(is_default=False, is_archived=True)


def _close_payment_links(user) -> None:
    """A link of an erased seller could never start a transaction again (its refusal checks the
    seller is active); it is closed for good, through paylinks' own service and audit, so its page
    says so. Transactions it started are transaction records and stay."""
    for link in PaymentLink.objects.filter(seller=user).exclude(status=PaymentLink.Status.CLOSED):
        paylink_services.payment_link_close(payment_link=link, seller=user)
    # A link that started no transaction is an offer nobody took: nothing needs the seller's words any
    # more. One that did is part of those transactions' records and goes with them (``privacy.purge``).
    unused = PaymentLink.objects.filter(seller=user, uses__isnull=True).values_list("pk", flat=True)
    paylink_services.payment_links_anonymise(payment_link_ids=list(unused), text=ANONYMISED)


def _enqueue_erasure_confirmation(erasure_id: int) -> None:
    enqueue("privacy.tasks.send_erasure_confirmation", erasure_id)  # the periodic sweep is the retry


# A claim older than this is a worker that died mid-send: well beyond the email task's time limits.
CONFIRMATION_CLAIM_LEASE = dt.timedelta(minutes=10)


def erasure_confirmation_claimable(now):
    """Not held by a worker, not waiting for its next try, not given up."""
    return ((Q(confirmation_claimed_at__isnull=True)
             | Q(confirmation_claimed_at__lt=now - CONFIRMATION_CLAIM_LEASE))
            & (Q(confirmation_retry_at__isnull=True) | Q(confirmation_retry_at__lte=now))
            & Q(confirmation_failed_at__isnull=True))


def erasure_confirmation_send(*, erasure_id: int) -> bool:
    """Email the confirmation of an erasure once, then forget the address (the identity, when the
    law requires it, is in ``RetainedIdentity``).

    No lock or transaction is held while the SMTP server answers (DESIGN.md §3): the worker claims
    the confirmation with one autocommitted conditional UPDATE (two workers cannot both win),
    sends, then records it sent and forgets the address. A failed send gives the claim back for
    the periodic sweep, to be tried again after a backoff; after too many failures, or a few
    permanent refusals, the confirmation is given up, logged as an error, and the address forgotten
    (``notifications.backoff``: an address always refused cannot take the sweep's batch from the
    others). Only a worker dying between the server's acceptance and that record can make the
    confirmation go out twice, after the lease."""
    from .selectors import KeptItem

    now = timezone.now()
    won = (ErasureRecord.objects.filter(erasure_confirmation_claimable(now), pk=erasure_id,
                                        confirmation_sent_at__isnull=True)
           .exclude(confirmation_email="").update(confirmation_claimed_at=now))
    if not won:
        return False
    erasure = ErasureRecord.objects.get(pk=erasure_id)
    mine = ErasureRecord.objects.filter(pk=erasure_id, confirmation_claimed_at=now)
    try:
        with translation.override(erasure.language):
            items = [KeptItem.from_stored(entry) for entry in erasure.kept]
            context = {"erasure": erasure, "kept": items, "site_url": settings.SITE_URL,
                       "privacy_url": settings.SITE_URL + reverse("privacy:notice")}
            subject = _("Your INTRASA account has been erased")
            text = render_to_string("privacy/email/erasure_confirmation.txt", context)
            html = render_to_string("privacy/email/erasure_confirmation.html", context)
        message = EmailMultiAlternatives(str(subject), text, to=[erasure.confirmation_email])
        message.attach_alternative(html, "text/html")
        message.send()  # bounded by EMAIL_TIMEOUT; no transaction is open here
    except BaseException as failure:
        _erasure_confirmation_give_back(mine, erasure, failure)
        raise
    mine.update(confirmation_sent_at=timezone.now(), confirmation_email="")
    return True


def _erasure_confirmation_give_back(mine, erasure: ErasureRecord, failure: BaseException) -> None:
    """The claim back, with the next try after a backoff, or the confirmation given up and its
    address forgotten. A worker being stopped (not an ``Exception``) is no attempt."""
    if not isinstance(failure, Exception):
        mine.update(confirmation_claimed_at=None)
        return
    step = backoff.after_failure(previous_attempts=erasure.confirmation_attempts, failure=failure,
                                 now=timezone.now())
    # Given up, the address goes too: it was kept only to send this.
    forget = {"confirmation_email": ""} if step.given_up_at is not None else {}
    mine.update(confirmation_claimed_at=None, confirmation_attempts=step.attempts,
                confirmation_retry_at=step.retry_at, confirmation_failed_at=step.given_up_at, **forget)
    if step.given_up_at is not None:
        logger.error("gave up on the confirmation of erasure %s after %s failed attempts: %r",
                     erasure.pk, step.attempts, failure)


# --- staff access log -------------------------------------------------------------------------

def staff_access_record(*, staff, kind: str, object_id, subject=None, reason: str = "", path: str = "",
                        ip_address: str | None = None) -> StaffAccessLog:
    """Append one line to the staff access log (who, what, whose, when, why)."""
    return StaffAccessLog.objects.create(
        staff=staff, staff_label=staff.get_username(), kind=kind, object_id=str(object_id), subject=subject,
        reason=reason, path=path[:300], ip_address=ip_address,
    )
