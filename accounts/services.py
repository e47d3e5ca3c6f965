"""Every change to a person or a payout destination goes through a function in this module.

Each service runs in ``transaction.atomic()`` and writes its audit row in the same transaction,
so a change without its record (or a record without its change) cannot be committed. Services
re-validate what they are given even though the forms already did: the admin, management
commands and later tasks call them too, and the rules (domestic only, one default, no duplicates)
belong to the data, not to one page.

A refused change raises ``django.core.exceptions.ValidationError``; when the error concerns one
argument it is keyed by that argument's name, so a form whose fields carry the same names can show
it next to the field.

Lock order, to keep concurrent requests from deadlocking: the owner's ``User`` row first, then
their ``PayoutDestination`` rows. Locking the owner serialises "is this the first destination?"
and "switch the default" for one person without locking anyone else.
"""
import re
import uuid

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from intrasa import locks
from notifications.services import notify

from .domestic import (
    EWALLET_PROVIDERS,
    mask_account_number,
    normalize_indonesian_mobile,
    validate_account_number,
    validate_bank_code,
)
from .models import PayoutDestination, User
from .signals import payout_destination_added
from .tokens import (
    MAX_AGE as VERIFICATION_MAX_AGE,
)
from .tokens import (
    TokenExpired,
    TokenInvalid,
    email_verification_token_check,
    email_verification_token_make,
)
from .validators import canonical_email, clean_identity_name

# Separators people type or paste from a bank book ("123-456 7890"); letters are never removed,
# so an IBAN or SWIFT code still fails validate_account_number.
_ACCOUNT_NUMBER_SEPARATORS = re.compile(r"[\s.\-]")


def _required_name(value: str, *, field: str) -> str:
    try:
        name = clean_identity_name(value)
    except ValidationError as error:
        raise ValidationError({field: error}) from None
    if not name:
        raise ValidationError({field: ValidationError(_("Enter the name."), code="required")})
    return name


def _validate_language(language: str) -> str:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": ValidationError(_("Choose one of the offered languages."),
                                                           code="invalid_language")})
    return language


def _lock_owner(owner: User) -> User:
    return locks.lock(User, owner.pk)


def _lock_destination(*, owner: User, destination: PayoutDestination) -> PayoutDestination:
    try:
        return locks.lock(PayoutDestination, destination.pk, owner=owner)
    except PayoutDestination.DoesNotExist:
        # The views 404 before getting here; this guards every other caller.
        raise ValidationError(_("This payout destination does not belong to you."),
                              code="not_owner") from None


def normalize_account_number(raw: str) -> str:
    """Drop the separators people type; leave everything else for validation to judge."""
    return _ACCOUNT_NUMBER_SEPARATORS.sub("", raw or "")


# --- users ----------------------------------------------------------------------------------

def user_sign_up(*, email: str, full_name: str, phone: str, password: str, language: str) -> User:
    """Create a person who logs in with ``email`` and email them a link to verify the address.

    Emails are stored in their canonical form (``accounts.validators.canonical_email``: NFKC, lower
    case), which is also what login compares, and the database refuses a second account whose
    address differs only in case (``user_email_ci_unique``)."""
    email = canonical_email(email)
    full_name = _required_name(full_name, field="full_name")
    try:
        phone = normalize_indonesian_mobile(phone)
    except ValidationError as error:
        raise ValidationError({"phone": error}) from None
    language = _validate_language(language)
    user = User(email=email, full_name=full_name, phone=phone, preferred_language=language)
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from None
    user.set_password(password)

    duplicate = ValidationError({"email": ValidationError(
        _("An account with this email address already exists. Log in, or reset your password if "
          "you forgot it."),
        code="duplicate_email",
    )})
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise duplicate
        try:
            # The savepoint keeps a lost race (two sign-ups with one address) from poisoning an
            # outer transaction.
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise duplicate from None
        audit_record(actor=user, action="user.sign_up", target=user, data={"language": language})
        _notify_verification_email(user)
    return user


def _notify_verification_email(user: User) -> None:
    token = email_verification_token_make(user=user)
    notify(
        # Every send is its own event: a resend must not be swallowed as a duplicate of the first.
        event_key=f"user:{user.pk}:verify_email:{uuid.uuid4().hex}",
        kind="verify_email", recipient=user,
        context={"name": user.get_short_name(), "email": user.email,
                 "days": VERIFICATION_MAX_AGE.days},
        link=reverse("accounts:verify_email", kwargs={"token": token}),
    )


def user_send_verification_email(*, user: User) -> None:
    """Email ``user`` a fresh verification link (links already sent keep working until they
    expire). Does nothing for an address that is already verified. How often a person may ask is
    the caller's business (``intrasa.ratelimit.VERIFICATION_EMAIL`` for the profile page)."""
    with transaction.atomic():
        locked = _lock_owner(user)
        if locked.email_verified_at is None:
            _notify_verification_email(locked)


def _mark_email_verified(locked: User, *, via: str) -> None:
    """Record that the person behind ``locked`` (a row locked by the caller) reads its email."""
    locked.email_verified_at = timezone.now()
    locked.save(update_fields=["email_verified_at"])
    audit_record(actor=locked, action="user.verify_email", target=locked, data={"via": via})


def user_verify_email(*, user: User, token: str) -> User:
    """Mark ``user``'s email address verified if ``token`` (from the emailed link) proves it.

    Raises ``ValidationError`` with code ``expired_token`` or ``invalid_token``. The token is
    checked against the locked row, so an address changed in the meantime invalidates it. An
    address that is already verified stays as it is, whatever the token: clicking an old link
    again must not tell the person that something is wrong.
    """
    with transaction.atomic():
        locked = _lock_owner(user)
        if locked.email_verified_at is None:
            try:
                email_verification_token_check(user=locked, token=token)
            except TokenExpired:
                raise ValidationError(
                    _("This verification link has expired: links are valid for %(days)d days. "
                      "Send yourself a new one from your account page.")
                    % {"days": VERIFICATION_MAX_AGE.days},
                    code="expired_token",
                ) from None
            except TokenInvalid:
                raise ValidationError(
                    _("This verification link is not valid for the account you are logged in to, "
                      "or your email address has changed since it was sent. Send yourself a new "
                      "one from your account page."),
                    code="invalid_token",
                ) from None
            _mark_email_verified(locked, via="link")
    user.email_verified_at = locked.email_verified_at
    return user


def user_update_profile(*, user: User, full_name: str, phone: str, preferred_language: str) -> User:
    """Change the details a person manages themselves. Email is not among them: it is the login
    and where password resets go, so changing it needs a confirmation flow of its own."""
    full_name = _required_name(full_name, field="full_name")
    try:
        phone = normalize_indonesian_mobile(phone)
    except ValidationError as error:
        raise ValidationError({"phone": error}) from None
    try:
        preferred_language = _validate_language(preferred_language)
    except ValidationError as error:
        raise ValidationError({"preferred_language": error.error_dict["language"]}) from None

    with transaction.atomic():
        locked = _lock_owner(user)
        new_values = {"full_name": full_name, "phone": phone, "preferred_language": preferred_language}
        changed = [name for name, value in new_values.items() if getattr(locked, name) != value]
        if changed:
            for name in changed:
                setattr(locked, name, new_values[name])
            locked.save(update_fields=changed)
            # Field names only: the audit trail should not become a second copy of personal data.
            audit_record(actor=locked, action="user.update_profile", target=locked,
                         data={"changed": changed})
    # Callers usually hold request.user; keep it in step with the row.
    for name, value in new_values.items():
        setattr(user, name, value)
    return user


def user_set_password(*, user: User, password: str, via: str) -> User:
    """Store a new password chosen by the person (``via`` says which page: "reset" or
    "change"). The forms that call this have run Django's password validators already.

    Completing a reset proves the address as well as a verification link would: the reset link
    went to ``user.email``, and Django's reset token stops working if the email changes."""
    with transaction.atomic():
        locked = _lock_owner(user)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        audit_record(actor=locked, action="user.set_password", target=locked, data={"via": via})
        if via == "reset" and locked.email_verified_at is None:
            _mark_email_verified(locked, via="password_reset")
    # The views refresh the session hash from this object, so it must carry the new hash.
    user.password = locked.password
    user.email_verified_at = locked.email_verified_at
    return user


def user_set_language(*, user: User, language: str) -> User:
    """Remember the language a logged-in person picked in the header switch, so emails and their
    next visit (on any device) use it too."""
    language = _validate_language(language)
    with transaction.atomic():
        locked = _lock_owner(user)
        if locked.preferred_language != language:
            previous = locked.preferred_language
            locked.preferred_language = language
            locked.save(update_fields=["preferred_language"])
            audit_record(actor=locked, action="user.set_language", target=locked,
                         data={"from": previous, "to": language})
    user.preferred_language = language
    return user


# --- payout destinations ---------------------------------------------------------------------

def _has_active_default(owner: User) -> bool:
    return PayoutDestination.objects.filter(owner=owner, is_default=True, is_archived=False).exists()


def _destination_audit_data(destination: PayoutDestination) -> dict:
    if destination.kind == PayoutDestination.Kind.BANK:
        where = {"bank_code": destination.bank_code,
                 "account_number": mask_account_number(destination.account_number)}
    else:
        where = {"ewallet_provider": destination.ewallet_provider,
                 "ewallet_phone": mask_account_number(destination.ewallet_phone)}
    return {"kind": destination.kind, **where, "is_default": destination.is_default}


def _destination_create(*, owner: User, duplicate: ValidationError, **fields) -> PayoutDestination:
    with transaction.atomic():
        owner = _lock_owner(owner)
        lookup = {key: fields[key] for key in ("kind", "bank_code", "account_number",
                                               "ewallet_provider", "ewallet_phone")}
        if PayoutDestination.objects.filter(owner=owner, is_archived=False, **lookup).exists():
            raise duplicate
        # A payout always needs somewhere to go, so the first (or the only active) destination
        # becomes the default without asking.
        destination = PayoutDestination.objects.create(
            owner=owner, is_default=not _has_active_default(owner),
            verification=PayoutDestination.Verification.UNVERIFIED, **fields,
        )
        audit_record(actor=owner, action="payout_destination.add", target=destination,
                     data=_destination_audit_data(destination))
        transaction.on_commit(lambda: payout_destination_added.send(
            sender=PayoutDestination, destination_id=destination.pk))
    return destination


def payout_destination_add_bank(
    *, owner: User, bank_code: str, account_number: str, account_holder_name: str
) -> PayoutDestination:
    """Add a domestic bank account. It starts unverified: the account inquiry that compares the
    holder name with the bank's record runs later, before the first payout."""
    errors: dict[str, ValidationError | list[ValidationError]] = {}
    try:
        validate_bank_code(bank_code)
    except ValidationError as error:
        errors["bank_code"] = error
    account_number = normalize_account_number(account_number)
    try:
        validate_account_number(account_number)
    except ValidationError as error:
        errors["account_number"] = error
    try:
        account_holder_name = _required_name(account_holder_name, field="account_holder_name")
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    return _destination_create(
        owner=owner,
        duplicate=ValidationError({"account_number": ValidationError(
            _("You have already added this bank account."), code="duplicate"
        )}),
        kind=PayoutDestination.Kind.BANK, bank_code=bank_code, account_number=account_number,
        account_holder_name=account_holder_name, ewallet_provider="", ewallet_phone="",
    )


def payout_destination_add_ewallet(
    *, owner: User, provider: str, phone: str, registered_name: str
) -> PayoutDestination:
    """Add an e-wallet (OVO, GoPay, DANA, LinkAja), identified by its Indonesian phone number."""
    errors: dict[str, ValidationError | list[ValidationError]] = {}
    if provider not in EWALLET_PROVIDERS:
        errors["provider"] = ValidationError(_("Choose one of the supported e-wallets."),
                                             code="unknown_provider")
    try:
        phone = normalize_indonesian_mobile(phone)
    except ValidationError as error:
        errors["phone"] = error
    try:
        registered_name = _required_name(registered_name, field="registered_name")
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    return _destination_create(
        owner=owner,
        duplicate=ValidationError({"phone": ValidationError(
            _("You have already added this e-wallet."), code="duplicate"
        )}),
        kind=PayoutDestination.Kind.EWALLET, ewallet_provider=provider, ewallet_phone=phone,
        account_holder_name=registered_name, bank_code="", account_number="",
    )


def payout_destination_set_default(*, owner: User, destination: PayoutDestination) -> PayoutDestination:
    """Make ``destination`` the one payouts go to."""
    with transaction.atomic():
        owner = _lock_owner(owner)
        destination = _lock_destination(owner=owner, destination=destination)
        if destination.is_archived:
            raise ValidationError(_("An archived payout destination cannot be the default."),
                                  code="archived")
        if destination.is_default:
            return destination
        previous = list(
            PayoutDestination.objects.filter(owner=owner, is_default=True, is_archived=False)
            .values_list("pk", flat=True)
        )
        # Clear the old default first: the one-default constraint is checked row by row.
        PayoutDestination.objects.filter(pk__in=previous).update(is_default=False)
        destination.is_default = True
        destination.save(update_fields=["is_default"])
        audit_record(actor=owner, action="payout_destination.set_default", target=destination,
                     data={"previous_default": previous[0] if previous else None})
    return destination


def payout_destination_archive(*, owner: User, destination: PayoutDestination) -> PayoutDestination:
    """Retire a destination without deleting it (past payouts keep pointing at it). If it was the
    default, the newest remaining destination takes over so payouts still have somewhere to go.
    Archiving twice is harmless: a double-submitted form changes nothing the second time."""
    with transaction.atomic():
        owner = _lock_owner(owner)
        destination = _lock_destination(owner=owner, destination=destination)
        if destination.is_archived:
            return destination
        was_default = destination.is_default
        destination.is_archived = True
        destination.is_default = False
        destination.save(update_fields=["is_archived", "is_default"])
        successor = None
        if was_default:
            successor = (
                locks.lock_first(PayoutDestination.objects
                                 .filter(owner=owner, is_archived=False).order_by("-created_at", "-pk"))
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])
        audit_record(actor=owner, action="payout_destination.archive", target=destination,
                     data={"was_default": was_default,
                           "new_default": successor.pk if successor is not None else None})
    return destination


def payout_destination_approve(
    *, destination: PayoutDestination, actor: User, reason: str
) -> PayoutDestination:
    """Staff accept a destination whose holder name differs from the name the bank reports (for
    example a shortened name or a spouse's account). Only a name mismatch can be approved: an
    unchecked or invalid account has nothing for staff to vouch for."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(_("Say why the different name is acceptable."),
                                                         code="required")})
    with transaction.atomic():
        destination = locks.lock(PayoutDestination, destination.pk)
        if destination.verification != PayoutDestination.Verification.NAME_MISMATCH:
            raise ValidationError(
                _("Only a destination whose holder name differs from the bank's record can be "
                  "approved; this one is “%(status)s”.")
                % {"status": destination.get_verification_display()},
                code="not_name_mismatch",
            )
        destination.verification = PayoutDestination.Verification.APPROVED
        destination.approved_by = actor
        destination.approved_at = timezone.now()
        # The failed check took the default away (disbursements.services._hand_over_default); an
        # approved account gets it back when the owner has no other.
        destination.is_default = destination.is_default or not PayoutDestination.objects.filter(
            owner_id=destination.owner_id, is_default=True, is_archived=False).exists()
        destination.save(update_fields=["verification", "approved_by", "approved_at", "is_default"])
        audit_record(actor=actor, action="payout_destination.approve", target=destination,
                     reason=reason,
                     data={"holder_name": destination.account_holder_name,
                           "verified_name": destination.verified_name})
    return destination


def payout_destination_review_ewallet(
    *, destination: PayoutDestination, actor: User, confirmed: bool, reason: str, seen_name: str = ""
) -> PayoutDestination:
    """Staff confirm (or refuse) the name an e-wallet is registered to. No provider API tells it
    (Faspay has no e-money account inquiry), so a person checks it (the owner's screenshot, a call)
    and says how, in ``reason``. Confirmed → ``approved``; refused → ``name_mismatch`` with the name
    staff saw, which stops every payout to it."""
    reason = (reason or "").strip()
    seen_name = (seen_name or "").strip()[:100]
    if not reason:
        raise ValidationError({"reason": ValidationError(_("Say how the registered name was checked."),
                                                         code="required")})
    if not confirmed and not seen_name:
        raise ValidationError({"seen_name": ValidationError(_("Enter the name the e-wallet is registered to."),
                                                            code="required")})
    with transaction.atomic():
        destination = locks.lock(PayoutDestination, destination.pk)
        if destination.kind != PayoutDestination.Kind.EWALLET or destination.is_archived:
            raise ValidationError(_("Only an active e-wallet is reviewed this way."), code="not_ewallet")
        now = timezone.now()
        destination.verified_name = seen_name or destination.account_holder_name
        destination.verified_at = now
        if confirmed:
            destination.verification = PayoutDestination.Verification.APPROVED
            destination.approved_by, destination.approved_at = actor, now
        else:
            destination.verification = PayoutDestination.Verification.NAME_MISMATCH
        destination.save(update_fields=["verification", "verified_name", "verified_at", "approved_by",
                                        "approved_at"])
        audit_record(actor=actor, action="payout_destination.ewallet_review", target=destination, reason=reason,
                     data={"confirmed": confirmed, "registered_name": destination.account_holder_name,
                           "seen_name": destination.verified_name})
    return destination


# --- staff second factor (accounts.admin_site) -----------------------------------------------

BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "INTRASA"
_TOTP_CODE = re.compile(r"[0-9]{6}", re.ASCII)


def _confirmed_totp(user: User):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def staff_has_authenticator(*, user: User) -> bool:
    return _confirmed_totp(user) is not None


def staff_authenticator_start(*, user: User):
    """The not-yet-confirmed authenticator a staff member is about to scan (the same one on every
    visit until it is confirmed, so reloading the page does not invalidate a scanned QR code).

    Refused when an authenticator is already confirmed: replacing it goes through a superuser's
    reset (``staff_second_factor_reset``), never through a password alone."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not user.is_staff:
        raise ValidationError(_("Only staff accounts use an authenticator app."), code="not_staff")
    with transaction.atomic():
        _lock_owner(user)
        if _confirmed_totp(user) is not None:
            raise ValidationError(_("This account already has an authenticator app."), code="enrolled")
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def _new_backup_codes(user: User) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _n in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def staff_authenticator_confirm(*, user: User, device, code: str) -> list[str]:
    """Confirm the scanned authenticator with one code it shows; return fresh one-time backup
    codes (shown once by the caller). The staff member is emailed, so an enrolment they did not
    make themselves does not go unnoticed."""
    code = (code or "").strip().replace(" ", "")
    codes = None
    with transaction.atomic():
        locked = _lock_owner(user)
        if _confirmed_totp(locked) is not None:
            raise ValidationError(_("This account already has an authenticator app."), code="enrolled")
        device = locks.lock(type(device), device.pk, user=locked, confirmed=False)
        # A wrong code is not raised inside this block: the device's failure count (django-otp's
        # throttling) must be committed, not rolled back with the error.
        if _TOTP_CODE.fullmatch(code) and device.verify_token(code):
            codes = _confirm_device(locked, device)
    if codes is None:
        raise ValidationError({"code": ValidationError(
            _("This code is not correct. Type the 6 digits your authenticator app shows now."),
            code="invalid_code")})
    return codes


def _confirm_device(locked: User, device) -> list[str]:
    """Within ``staff_authenticator_confirm``'s transaction, with the owner row locked."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    type(device).objects.filter(user=locked, confirmed=False).delete()
    codes = _new_backup_codes(locked)
    audit_record(actor=locked, action="staff.second_factor_enrol", target=locked, data={})
    notify(event_key=f"user:{locked.pk}:second_factor_enrolled:{uuid.uuid4().hex}",
           kind="second_factor_enrolled", recipient=locked, context={"name": locked.get_short_name()},
           link=reverse("admin:index"))
    return codes


def staff_second_factor_verify(*, user: User, code: str):
    """The device that accepts ``code`` (6 digits: the authenticator app; otherwise a backup
    code, used up by this), or ``None``. Wrong codes slow the device down (django-otp's throttling)."""
    from django_otp import devices_for_user, verify_token
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = (code or "").strip().replace(" ", "").lower()
    if not code:
        return None
    wanted = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, wanted):
            verified = verify_token(user, device.persistent_id, code)
            if verified is not None:
                if wanted is StaticDevice:
                    audit_record(actor=user, action="staff.backup_code_used", target=user,
                                 data={"left": verified.token_set.count()})
                return verified
    return None


def staff_backup_codes_renew(*, user: User) -> list[str]:
    """New backup codes for a staff member whose session passed the second factor (the caller's
    check); the old ones stop working."""
    with transaction.atomic():
        locked = _lock_owner(user)
        if _confirmed_totp(locked) is None:
            raise ValidationError(_("Set up your authenticator app first."), code="not_enrolled")
        codes = _new_backup_codes(locked)
        audit_record(actor=locked, action="staff.backup_codes_renew", target=locked, data={})
    return codes


def staff_second_factor_reset(*, user: User, actor: User | None, reason: str) -> int:
    """Remove a staff member's authenticator and backup codes (a lost phone). Their next admin
    login asks them to set up a new authenticator. ``actor`` is the superuser (or ``None`` for the
    ``reset_staff_second_factor`` command, run by whoever has the server)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(_("Say why the second factor is reset."),
                                                         code="required")})
    with transaction.atomic():
        locked = _lock_owner(user)
        removed = TOTPDevice.objects.filter(user=locked).delete()[0]
        removed += StaticDevice.objects.filter(user=locked).delete()[0]
        audit_record(actor=actor, action="staff.second_factor_reset", target=locked, reason=reason,
                     data={"removed_rows": removed})
    return removed
