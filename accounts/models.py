"""People and where their money goes."""
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .domestic import DOMESTIC_BANKS, EWALLET_PROVIDERS, mask_account_number
from .validators import canonical_email, validate_identity_name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=canonical_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    @classmethod
    def normalize_email(cls, email):
        """Django's version lower-cases only the domain; INTRASA's canonical form is the whole
        address in NFKC and lower case (``accounts.validators.canonical_email``)."""
        return canonical_email(email)

    def get_by_natural_key(self, username):
        # Authentication looks the account up in the same canonical form it is stored in, so
        # every spelling that reaches the same account is one address (and one lock-out counter).
        return self.get(email__iexact=canonical_email(username))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address. Buyers and sellers are the same model: the
    role is per transaction."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, validators=[validate_identity_name])
    # E.164, Indonesian mobile only (accounts.domestic.normalize_indonesian_mobile).
    phone = models.CharField(_("mobile number"), max_length=20, blank=True, db_index=True)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # When the person last proved they read ``email`` (accounts.tokens link, or a completed
    # password reset). Null until then; cleared when the address changes.
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # The code stores emails lower-case, but a row written some other way (raw SQL, a
            # future import) must not create a second account for the same mailbox either.
            models.UniqueConstraint(
                Lower("email"), name="user_email_ci_unique",
                violation_error_message=_("Another user already has this email address."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def clean(self):
        super().clean()
        self.email = canonical_email(self.email)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None


class PayoutDestination(models.Model):
    """Where a seller (or a refunded buyer) receives money: a domestic bank account or an e-wallet.

    Destinations are never deleted once used; a seller archives one instead, so every past
    disbursement still points at what it was sent to.
    """

    class Kind(models.TextChoices):
        BANK = "bank", _("Bank account")
        EWALLET = "ewallet", _("E-wallet")

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not yet checked")
        VERIFIED = "verified", _("Verified")
        NAME_MISMATCH = "name_mismatch", _("Holder name differs: awaiting staff approval")
        APPROVED = "approved", _("Approved by staff")
        INVALID = "invalid", _("Invalid account")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_destinations",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    bank_code = models.CharField(_("bank"), max_length=3, blank=True,
                                 choices=sorted(DOMESTIC_BANKS.items()))
    account_number = models.CharField(_("account number"), max_length=20, blank=True)
    account_holder_name = models.CharField(_("account holder name"), max_length=100, blank=True,
                                           validators=[validate_identity_name])
    ewallet_provider = models.CharField(_("e-wallet"), max_length=3, blank=True,
                                        choices=list(EWALLET_PROVIDERS.items()))
    ewallet_phone = models.CharField(_("registered phone number"), max_length=20, blank=True)
    verification = models.CharField(
        _("verification"), max_length=20, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    # The name the bank or e-wallet reports for the account (account-inquiry-external).
    verified_name = models.CharField(_("name at the bank"), max_length=100, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        verbose_name = _("payout destination")
        verbose_name_plural = _("payout destinations")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "bank_code", "account_number"],
                condition=models.Q(kind="bank", is_archived=False),
                name="unique_active_bank_destination",
            ),
            models.UniqueConstraint(
                fields=["owner", "ewallet_provider", "ewallet_phone"],
                condition=models.Q(kind="ewallet", is_archived=False),
                name="unique_active_ewallet_destination",
            ),
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(is_default=True, is_archived=False),
                name="one_default_destination_per_owner",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="bank", ewallet_provider="", ewallet_phone="")
                    & ~models.Q(bank_code="") & ~models.Q(account_number="")
                    & ~models.Q(account_holder_name="")
                )
                | (
                    models.Q(kind="ewallet", bank_code="", account_number="")
                    & ~models.Q(ewallet_provider="") & ~models.Q(ewallet_phone="")
                    & ~models.Q(account_holder_name="")
                ),
                name="payout_destination_fields_match_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.kind == self.Kind.BANK:
            bank = DOMESTIC_BANKS.get(self.bank_code, self.bank_code)
            return f"{bank} {mask_account_number(self.account_number)} a.n. {self.account_holder_name}"
        wallet = EWALLET_PROVIDERS.get(self.ewallet_provider, self.ewallet_provider)
        return f"{wallet} {mask_account_number(self.ewallet_phone)} a.n. {self.account_holder_name}"

    @property
    def can_receive_payouts(self) -> bool:
        """Bank accounts only after the account inquiry matched the owner (or staff approved).
        E-wallets cannot be checked beforehand (SendMe has no e-wallet inquiry, REFERENCE.md §1):
        they may receive until a top-up fails as unregistered, which marks them invalid."""
        if self.is_archived or self.verification == self.Verification.INVALID:
            return False
        if self.kind == self.Kind.EWALLET:
            return self.verification != self.Verification.NAME_MISMATCH
        return self.verification in (self.Verification.VERIFIED, self.Verification.APPROVED)
