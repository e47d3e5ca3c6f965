"""Every change the partner API makes goes through a function here.

Partners, keys and secrets change only through staff (the admin calls these with a reason, audited).
Transactions are created and cancelled through ``transactions.services`` — the very services the
website uses — acting as the linked seller; nothing here moves money or changes a transaction's
state by itself. Webhook events are rows written by the timeline listener (``partners.listeners``)
in the transition's own database transaction and delivered by ``partners.tasks`` after commit.
"""
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.validators import canonical_email
from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.jobs import enqueue
from transactions import services as transaction_services
from transactions.models import EscrowTransaction, TransactionEvent

from . import signing, webhook_http
from .models import (
    KEY_SCOPES,
    LINK_SCOPES,
    SCOPE_TRANSACTIONS_READ,
    SCOPE_TRANSACTIONS_WRITE,
    ApiKey,
    AuthorizationCode,
    IdempotencyRecord,
    Partner,
    PartnerTransaction,
    SellerLink,
    WebhookAttempt,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

KEY_PREFIX = "intrasa_"
API_KEY_FORMAT = re.compile(r"intrasa_[0-9a-f]{1,16}_[A-Za-z0-9_-]{1,100}", re.ASCII)
CLIENT_ID_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)
AUTHORIZATION_CODE_SECONDS = 120
# What webhooks say: each transition of the transaction, plus the buyer's acceptance.
EVENT_TYPES = {
    "created": "transaction.created",
    "accepted": "transaction.accepted",
    "mark_paid": "transaction.paid",
    "reopen_for_payment": "transaction.payment_short",
    "verify": "transaction.verified",
    "ship": "transaction.shipped",
    "confirm": "transaction.confirmed",
    "mark_disbursed": "transaction.disbursed",
    "payout_given_back": "transaction.payout_returned",  # the bank gave the payout back: it is sent again
    "cancel": "transaction.cancelled",
    "expire": "transaction.expired",
    "open_dispute": "transaction.disputed",
    "resolve_release": "transaction.dispute_released",
    "resolve_split": "transaction.dispute_split",
    "refund": "transaction.refunded",
    # The payment provider took the buyer's payment back: before it was verified (the transaction waits for
    # a payment again) or while INTRASA held it (the transaction ends refunded, by the provider).
    "reopen_after_reversal": "transaction.payment_reversed",
    "take_back_payment": "transaction.payment_reversed",
}


class PartnerError(ServiceError):
    """A refused partner action; ``code`` is the API's error code, ``status`` its HTTP status."""

    def __init__(self, message: str, code: str = "refused", status: int = 400):
        super().__init__(message, code)
        self.http_status = status


def refusal_status(exc: ServiceError) -> int:
    """The HTTP status of a service's refusal: a step the state does not allow is a conflict."""
    if isinstance(exc, PartnerError):
        return exc.http_status
    return {"illegal_transition": 409, "forbidden": 403}.get(exc.code, 422)


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise PartnerError(_("Please give a reason."), code="reason_required")
    return reason


def _check_scopes(scopes, allowed) -> list[str]:
    if not isinstance(scopes, list | tuple) or not scopes or any(scope not in allowed for scope in scopes):
        raise PartnerError(_("Choose one or more of these scopes: %(scopes)s.") % {"scopes": ", ".join(allowed)},
                           code="invalid_scope")
    return sorted(set(scopes))


def _check_webhook_url(url: str) -> str:
    url = (url or "").strip()
    if url:
        try:
            webhook_http.check_destination(url, allow_private=settings.PARTNER_WEBHOOK_ALLOW_PRIVATE, resolve=False)
        except webhook_http.UnsafeDestination:
            raise PartnerError(_("The webhook URL must be an https address on the public internet."),
                               code="invalid_webhook_url") from None
    return url


def _check_redirect_uris(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise PartnerError(_("Give at least one redirect URI."), code="invalid_redirect_uri")
    for line in lines:
        parts = urlsplit(line)
        secure = parts.scheme == "https" or (settings.PARTNER_WEBHOOK_ALLOW_PRIVATE and parts.scheme == "http")
        if not secure or not parts.hostname or parts.fragment:
            raise PartnerError(_("Each redirect URI must be a full https address without a #fragment: %(uri)s")
                               % {"uri": line}, code="invalid_redirect_uri")
    return "\n".join(lines)


# --- partners (staff) -------------------------------------------------------------------------

def partner_register(*, actor, reason: str, name: str, website: str = "", redirect_uris: str,
                     webhook_url: str = "") -> tuple[Partner, str]:
    """Staff register a partner; returns it and its webhook signing secret (shown once)."""
    reason = _require_reason(reason)
    secret = signing.new_secret("whsec_")
    with transaction.atomic():
        partner = Partner.objects.create(
            name=name.strip(), website=website, redirect_uris=_check_redirect_uris(redirect_uris),
            webhook_url=_check_webhook_url(webhook_url), webhook_secret=secret,
            client_id=f"pc_{secrets.token_hex(8)}")
        audit_record(actor=actor, action="partner.register", target=partner, reason=reason,
                     data={"name": partner.name, "webhook_url": partner.webhook_url})
    return partner, secret


def partner_update(*, partner: Partner, actor, reason: str, name: str, website: str, redirect_uris: str,
                   webhook_url: str, is_active: bool) -> Partner:
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = locks.lock(Partner, partner.pk)
        before = {"name": locked.name, "webhook_url": locked.webhook_url, "is_active": locked.is_active,
                  "redirect_uris": locked.redirect_uris}
        locked.name, locked.website = name.strip(), website
        locked.redirect_uris = _check_redirect_uris(redirect_uris)
        locked.webhook_url = _check_webhook_url(webhook_url)
        locked.is_active = is_active
        locked.save()
        audit_record(actor=actor, action="partner.update", target=locked, reason=reason,
                     data={"before": before, "after": {"name": locked.name, "webhook_url": locked.webhook_url,
                                                       "is_active": locked.is_active,
                                                       "redirect_uris": locked.redirect_uris}})
    return locked


def partner_delete(*, partner: Partner, actor, reason: str) -> None:
    """Only a partner that never created a transaction can be deleted; others are deactivated."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = locks.lock(Partner, partner.pk)
        if PartnerTransaction.objects.filter(partner=locked).exists():
            raise PartnerError(_("This partner has created transactions: deactivate it instead of deleting it."),
                               code="in_use")
        audit_record(actor=actor, action="partner.delete", target=locked, reason=reason, data={"name": locked.name})
        SellerLink.objects.filter(partner=locked).delete()
        ApiKey.objects.filter(partner=locked).delete()
        locked.delete()


def webhook_secret_rotate(*, partner: Partner, actor, reason: str) -> str:
    """A new signing secret (shown once); deliveries from now on are signed with it."""
    reason = _require_reason(reason)
    secret = signing.new_secret("whsec_")
    with transaction.atomic():
        locked = locks.lock(Partner, partner.pk)
        locked.webhook_secret = secret
        locked.save(update_fields=["webhook_secret"])
        audit_record(actor=actor, action="partner.webhook_secret_rotate", target=locked, reason=reason)
    return secret


# --- API keys (staff) -------------------------------------------------------------------------

def _new_key(*, partner: Partner, scopes: list[str], label: str) -> tuple[ApiKey, str]:
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey.objects.create(partner=partner, prefix=prefix, secret_hash=signing.digest(secret),
                                scopes=scopes, label=label[:100])
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


def api_key_issue(*, partner: Partner, actor, reason: str, scopes: list[str], label: str = "") -> tuple[ApiKey, str]:
    """A new key; the plain key is returned once and never stored."""
    reason = _require_reason(reason)
    scopes = _check_scopes(scopes, KEY_SCOPES)
    with transaction.atomic():
        key, plain = _new_key(partner=partner, scopes=scopes, label=label)
        audit_record(actor=actor, action="partner.api_key_issue", target=partner, reason=reason,
                     data={"key": key.prefix, "scopes": scopes})
    return key, plain


def api_key_rotate(*, api_key: ApiKey, actor, reason: str) -> tuple[ApiKey, str]:
    """A new key with the same scopes; the old one keeps working for the grace period only."""
    reason = _require_reason(reason)
    with transaction.atomic():
        old = locks.lock(ApiKey, api_key.pk, related=("partner",))
        if old.revoked_at is not None:
            raise PartnerError(_("This key is revoked; issue a new one instead."), code="revoked")
        grace_end = timezone.now() + dt.timedelta(hours=settings.PARTNER_KEY_ROTATION_GRACE_HOURS)
        old.expires_at = min(old.expires_at, grace_end) if old.expires_at else grace_end
        old.save(update_fields=["expires_at"])
        key, plain = _new_key(partner=old.partner, scopes=old.scopes, label=old.label)
        audit_record(actor=actor, action="partner.api_key_rotate", target=old.partner, reason=reason,
                     data={"old": old.prefix, "new": key.prefix, "old_expires_at": old.expires_at.isoformat()})
    return key, plain


def api_key_revoke(*, api_key: ApiKey, actor, reason: str) -> ApiKey:
    reason = _require_reason(reason)
    with transaction.atomic():
        key = locks.lock(ApiKey, api_key.pk, related=("partner",))
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="partner.api_key_revoke", target=key.partner, reason=reason,
                         data={"key": key.prefix})
    return key


@dataclass(frozen=True)
class ApiKeyCheck:
    """What a raw key opens. ``key``: the usable key, or None. ``retired``: a key of a partner whose
    secret matches but that no longer opens anything (revoked, expired after a rotation, or of a
    deactivated partner): its holder had the secret, so it is no guess. ``guess``: looked up, and
    no key has that secret. A malformed key is neither (it is never looked up)."""

    key: ApiKey | None = None
    retired: ApiKey | None = None
    guess: bool = False


def api_key_check(*, raw_key: str) -> ApiKeyCheck:
    """``api_key_authenticate``, telling a guess apart from a retired key and from a malformed one
    (the partner API's per-address budget counts only guesses: ``partners.api.ApiKeyAuth``)."""
    # Only the characters a key is made of (hex key id, url-safe secret): anything else, a NUL
    # above all, would otherwise reach the database lookup (a NUL there is a 500, not a 401).
    if not isinstance(raw_key, str) or len(raw_key) > 200 or not API_KEY_FORMAT.fullmatch(raw_key):
        return ApiKeyCheck()
    prefix, _sep, secret = raw_key.removeprefix(KEY_PREFIX).partition("_")
    key = ApiKey.objects.select_related("partner").filter(prefix=prefix).first()
    if key is None or not signing.digests_match(secret, key.secret_hash):
        return ApiKeyCheck(guess=True)
    if not key.is_usable():
        return ApiKeyCheck(retired=key)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return ApiKeyCheck(key=key)


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The usable key behind ``raw_key``, or ``None``. Notes when it was last used (at most once
    a minute, so a busy partner does not write on every request)."""
    return api_key_check(raw_key=raw_key).key


# --- consent: linking a seller --------------------------------------------------------------

def authorization_request_check(*, client_id: str, redirect_uri: str, scope: str) -> tuple[Partner, list[str]]:
    """The partner and scopes of a consent request, or a refusal. The redirect URI must be one the
    partner registered, exactly: otherwise the code could be sent to someone else."""
    # The client id is looked up only if it looks like one (a NUL, from a crafted form, would be a 500).
    partner = (Partner.objects.filter(client_id=client_id, is_active=True).first()
               if isinstance(client_id, str) and CLIENT_ID_FORMAT.fullmatch(client_id) else None)
    if partner is None:
        raise PartnerError(_("This link to INTRASA is not valid: the partner is unknown."), code="unknown_client")
    if redirect_uri not in partner.redirect_uri_list:
        raise PartnerError(_("This link to INTRASA is not valid: the return address is not registered."),
                           code="invalid_redirect_uri")
    scopes = _check_scopes((scope or "").split(), LINK_SCOPES)
    return partner, scopes


def link_approve(*, partner: Partner, user, scopes: list[str], redirect_uri: str) -> tuple[SellerLink, str]:
    """The seller approves: one live link per partner and seller (its scopes updated on a new
    approval); returns the link and a single-use code for the partner."""
    scopes = _check_scopes(scopes, LINK_SCOPES)
    code = secrets.token_urlsafe(32)
    with transaction.atomic():
        locks.lock("accounts.User", user.pk)  # one approval at a time per person: one live link
        link = SellerLink.objects.filter(partner=partner, user=user, revoked_at__isnull=True).first()
        if link is None:
            link = SellerLink.objects.create(partner=partner, user=user, scopes=scopes)
        elif link.scopes != scopes:
            SellerLink.objects.filter(pk=link.pk).update(scopes=scopes)
            link.scopes = scopes
        _read_consent_follows(partner=partner, user=user, scopes=scopes)
        if SCOPE_TRANSACTIONS_READ in scopes:
            _resume_events_withheld_for_consent(partner=partner, user=user)
        AuthorizationCode.objects.create(
            partner=partner, link=link, code_hash=signing.digest(code), redirect_uri=redirect_uri,
            expires_at=timezone.now() + dt.timedelta(seconds=AUTHORIZATION_CODE_SECONDS))
        audit_record(actor=user, action="partner.link_approve", target=link, data={"partner": partner.name,
                                                                                    "scopes": scopes})
    return link, code


def _read_consent_follows(*, partner: Partner, user, scopes: list[str]) -> None:
    """Reading follows the seller's latest answer to this partner, for the transactions made under the
    links they removed too (``SellerLink.lets_partner_read`` reads a transaction's own link): otherwise
    removing a link and approving again without ``transactions:read`` would leave every older
    transaction readable, where narrowing the live link hides them."""
    reads = SCOPE_TRANSACTIONS_READ in scopes
    for old in SellerLink.objects.filter(partner=partner, user=user, revoked_at__isnull=False):
        wanted = [scope for scope in LINK_SCOPES
                  if scope in old.scopes and scope != SCOPE_TRANSACTIONS_READ or scope == SCOPE_TRANSACTIONS_READ and reads]
        if wanted != old.scopes:
            SellerLink.objects.filter(pk=old.pk).update(scopes=wanted)


def _resume_events_withheld_for_consent(*, partner: Partner, user) -> None:
    """The seller now lets the partner read: the events that ended for want of that consent (their last
    attempt says so) are due again, and go out in sequence order per transaction with the ones that
    follow (an earlier undelivered event holds the later ones back), as if they had waited."""
    last_error = Subquery(WebhookAttempt.objects.filter(event=OuterRef("pk")).order_by("-attempted_at", "-id")
                          .values("error")[:1])
    ended = list(WebhookEvent.objects.filter(partner=partner, partner_transaction__link__user=user,
                                             delivered_at__isnull=True, gave_up_at__isnull=False)
                 .annotate(last_error=last_error).filter(last_error=WITHHELD_FOR_CONSENT)
                 .values_list("pk", flat=True))
    if ended:
        WebhookEvent.objects.filter(pk__in=ended).update(gave_up_at=None, next_attempt_at=timezone.now())
        for event_id in ended:
            enqueue("partners.tasks.deliver_webhook", event_id)


def link_revoke(*, link_id: int, user) -> SellerLink:
    """The seller withdraws the partner's access (from their profile). Transactions already made
    stay, and the partner may still follow them (read and webhooks, as far as the link's scopes let
    it: ``SellerLink.lets_partner_read``); new ones cannot be created."""
    with transaction.atomic():
        try:
            link = locks.lock(SellerLink, link_id, related=("partner",), user=user)  # only one's own
        except SellerLink.DoesNotExist:
            raise PartnerError(_("This link does not exist."), code="not_found", status=404) from None
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            audit_record(actor=user, action="partner.link_revoke", target=link, data={"partner": link.partner_id})
    return link


def authorization_code_exchange(*, partner: Partner, code: str, redirect_uri: str) -> SellerLink:
    """The partner trades a code (single use, two minutes) for the link it stands for."""
    with transaction.atomic():
        found = AuthorizationCode.objects.filter(code_hash=signing.digest(code or ""), partner=partner).first()
        locked = locks.lock(AuthorizationCode, found.pk, related=("link__user",)) if found else None
        # A seller whose account was disabled or erased since approving gives no link (``_live_link``).
        if locked is None or locked.used_at is not None or locked.expires_at <= timezone.now() \
                or locked.redirect_uri != redirect_uri or locked.link.revoked_at is not None \
                or not locked.link.user.is_active:
            raise PartnerError(_("The authorization code is unknown, expired or already used."),
                               code="invalid_grant", status=400)
        locked.used_at = timezone.now()
        locked.save(update_fields=["used_at"])
        return locked.link


# --- idempotency ------------------------------------------------------------------------------

def request_fingerprint(*, method: str, path: str, payload) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def idempotent_call(*, partner: Partner, key: str, fingerprint: str,
                    work: Callable[[], tuple[int, dict]]) -> tuple[int, dict, bool]:
    """Run ``work`` once per ``(partner, key)``; returns ``(status, body, replayed)``.

    The record is inserted first, in the same database transaction as the work: a concurrent
    copy's insert waits on the unique index until this one commits, then reads the stored answer
    (or, if this one rolled back, does the work itself). A refusal of the work (a
    ``ServiceError``) is an answer too, stored like a success: retrying the same request gives the
    same answer; fixing it takes a new key. The same key with a different request is refused."""
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.get_or_create(partner=partner, key=key,
                                                                  defaults={"fingerprint": fingerprint})
        if not created:
            if record.fingerprint != fingerprint:
                raise PartnerError(_("This Idempotency-Key was already used for a different request."),
                                   code="idempotency_key_reused", status=422)
            assert record.response_status is not None and record.response_body is not None
            return record.response_status, record.response_body, True
        try:
            with transaction.atomic():
                status, body = work()
        except ServiceError as exc:
            status, body = refusal_status(exc), {"error": {"code": exc.code, "message": exc.message, "details": []}}
        IdempotencyRecord.objects.filter(pk=record.pk).update(response_status=status, response_body=body)
        return status, body, False


# The fields of a stored answer (``api.transaction_body``) that hold the invited buyer's contact.
BUYER_CONTACT = ("buyer_email", "buyer_phone")


def idempotency_answers_scrub(*, user) -> int:
    """Empty ``user``'s personal data from the partner API's stored answers (account erasure, before
    the account's own address is replaced): as a buyer, the email address and mobile number of the
    answers about transactions they bought in and about an invitation to their address or number; as
    a seller, their name in the answers to a link exchange (``/links/exchange``) of their links. The
    answer stays, so a retry still gets it and creates nothing twice; it is deleted by
    ``partner_records_prune`` in any case. Returns how many answers changed."""
    references = list(EscrowTransaction.objects.filter(buyer=user).values_list("reference", flat=True))
    link_ids = [str(public_id) for public_id in SellerLink.objects.filter(user=user).values_list("public_id", flat=True)]
    email = canonical_email(user.email)
    about = Q(response_body__reference__in=references) | Q(response_body__buyer_email__iexact=email)
    if user.phone:
        about |= Q(response_body__buyer_phone=user.phone)
    if link_ids:
        about |= Q(response_body__link_id__in=link_ids)
    changed = 0
    for pk, body in IdempotencyRecord.objects.filter(about).values_list("pk", "response_body"):
        if not isinstance(body, dict):
            continue
        as_buyer = (body.get("reference") in references or (user.phone and body.get("buyer_phone") == user.phone)
                    or bool(email) and canonical_email(str(body.get("buyer_email") or "")) == email)
        personal = [field for field in BUYER_CONTACT if as_buyer and body.get(field)]
        if body.get("link_id") in link_ids and body.get("seller_name"):
            personal.append("seller_name")
        if personal:
            IdempotencyRecord.objects.filter(pk=pk).update(response_body={**body, **dict.fromkeys(personal, "")})
            changed += 1
    return changed


# --- transactions on behalf of a linked seller ----------------------------------------------

def _live_link(*, partner: Partner, link_public_id, scope: str) -> SellerLink:
    # An inactive account (erased under privacy, or disabled by staff) gives no more orders either.
    link = (SellerLink.objects.select_related("user")
            .filter(partner=partner, public_id=link_public_id, revoked_at__isnull=True, user__is_active=True).first())
    if link is None:
        raise PartnerError(_("No seller is linked to this partner under that link id (or the seller revoked it)."),
                           code="link_not_found", status=404)
    if scope not in link.scopes:
        raise PartnerError(_("The seller did not grant this partner the scope %(scope)s.") % {"scope": scope},
                           code="insufficient_scope", status=403)
    return link


def partner_transaction_create(*, partner: Partner, link_public_id, external_id: str = "",
                               **terms) -> PartnerTransaction:
    """Create the escrow transaction through ``transactions.services.transaction_create`` as the
    linked seller (the same checks, limits, fees and invitation as on the website), and bind it
    to the partner; the timeline events written so far become its first webhook events."""
    with transaction.atomic():
        link = _live_link(partner=partner, link_public_id=link_public_id, scope=SCOPE_TRANSACTIONS_WRITE)
        txn = transaction_services.transaction_create(seller=link.user, **terms)
        bound = PartnerTransaction.objects.create(partner=partner, link=link, escrow_transaction=txn,
                                                  external_id=external_id)
        for event in txn.events.order_by("created_at", "id"):
            webhook_event_record(partner_transaction=bound, timeline_event=event)
        return bound


def partner_transaction_cancel(*, partner_transaction: PartnerTransaction, reason: str) -> EscrowTransaction:
    """Cancel before payment, as the seller, through ``transaction_cancel`` (which refuses once
    anything was paid). The seller must let the partner act for them now: their live link to the
    partner, with ``transactions:write`` (the transaction's own link, or the one they approved after
    removing it; as reading follows their latest answer, ``_read_consent_follows``). A seller who
    removed the link and did not approve again gave no more orders."""
    seller_id = partner_transaction.link.user_id
    live = (SellerLink.objects.filter(partner_id=partner_transaction.partner_id, user_id=seller_id,
                                      revoked_at__isnull=True).values_list("public_id", flat=True).first())
    _live_link(partner=partner_transaction.partner, link_public_id=live or partner_transaction.link.public_id,
               scope=SCOPE_TRANSACTIONS_WRITE)
    reason = f"{partner_transaction.partner.name}: {(reason or '').strip()}"
    return transaction_services.transaction_cancel(escrow_transaction=partner_transaction.escrow_transaction,
                                                   actor=partner_transaction.link.user, reason=reason)


# --- webhooks ---------------------------------------------------------------------------------

def webhook_event_record(*, partner_transaction: PartnerTransaction, timeline_event: TransactionEvent) -> WebhookEvent | None:
    """Turn a timeline event of a partner's transaction into a webhook event with the next sequence
    number (call inside the transition's database transaction). Only transitions and the buyer's
    acceptance become events. The counter is raised with one UPDATE, which holds the row until
    commit: two transitions can never get the same number."""
    if not timeline_event.to_status and timeline_event.action != "accepted":
        return None
    PartnerTransaction.objects.filter(pk=partner_transaction.pk).update(last_sequence=F("last_sequence") + 1)
    sequence = PartnerTransaction.objects.values_list("last_sequence", flat=True).get(pk=partner_transaction.pk)
    txn = timeline_event.escrow_transaction
    event = WebhookEvent(partner_id=partner_transaction.partner_id, partner_transaction=partner_transaction,
                         sequence=sequence, event_type=EVENT_TYPES.get(timeline_event.action,
                                                                       f"transaction.{timeline_event.action}"),
                         next_attempt_at=timezone.now())
    event.payload = {
        "id": str(event.public_id), "type": event.event_type, "sequence": sequence,
        "created_at": timeline_event.created_at.isoformat(),
        "data": {"reference": txn.reference, "external_id": partner_transaction.external_id,
                 "action": timeline_event.action, "from_status": timeline_event.from_status or None,
                 "to_status": timeline_event.to_status or txn.status},
    }
    event.save()
    enqueue("partners.tasks.deliver_webhook", event.pk)
    return event


def _backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … doubling up to 6 hours between attempts."""
    seconds = settings.PARTNER_WEBHOOK_FIRST_RETRY_SECONDS * 2 ** min(attempts - 1, 20)
    return dt.timedelta(seconds=min(seconds, settings.PARTNER_WEBHOOK_MAX_RETRY_SECONDS))


def _earlier_undelivered(event: WebhookEvent) -> bool:
    return WebhookEvent.objects.filter(partner_transaction_id=event.partner_transaction_id,
                                       sequence__lt=event.sequence, delivered_at__isnull=True,
                                       gave_up_at__isnull=True).exists()


WITHHELD_FOR_PARTNER = "withheld: the partner is deactivated"
WITHHELD_FOR_CONSENT = "withheld: the seller did not grant transactions:read"


def _withheld_because(event: WebhookEvent) -> tuple[str, bool]:
    """Why this event may not be sent now ("" if it may), and whether that ends its delivery. A webhook
    is a read the partner did not ask for, so it needs what ``GET /transactions/{reference}`` needs:
    a partner staff have not deactivated (its keys are refused; retried on the backoff, as staff may
    reactivate it), and the seller's consent to reading (``SellerLink.lets_partner_read``; without it
    the event ends at once rather than being retried for days, as a seller may grant only
    ``transactions:write``; consent given later makes it due again, in order:
    ``_resume_events_withheld_for_consent``). Judged when the attempt is claimed: a partner deactivated
    or a consent withdrawn during an attempt's HTTP call (at most ``webhook_http.attempt_deadline()``)
    still lets that one through, and consent given between the claim and the end of an attempt that
    withheld the event leaves it ended (``redeliver`` sends it)."""
    if not event.partner.is_active:
        return WITHHELD_FOR_PARTNER, False
    if not event.partner_transaction.link.lets_partner_read:
        return WITHHELD_FOR_CONSENT, True
    return "", False


def webhook_deliver(*, event_id: int) -> str:
    """One delivery attempt of a due event; returns what happened (for logs and tests).

    Three steps, the HTTP call outside any database transaction: claim the event (row lock, due,
    first undelivered of its transaction, then a lease: ``next_attempt_at`` moves past the longest
    call so another worker does not send it at the same time) and commit; post it, signed; record
    the attempt and the next retry (exponential backoff, for ``PARTNER_WEBHOOK_RETRY_DAYS``) or the
    delivery, and after a delivery enqueue the next event of the same transaction.

    An event the partner may not read now (``_withheld_because``) is not posted: the attempt is
    recorded with the reason and retried on the same backoff, so delivery resumes if the partner is
    reactivated, and ends like any undeliverable event; one the seller does not let the partner read
    ends at once, and is due again when the seller grants reading."""
    now = timezone.now()
    with transaction.atomic():
        event = locks.lock(WebhookEvent, event_id, related=("partner", "partner_transaction__link"), skip_locked=True)
        if event is None or event.delivered_at is not None or event.gave_up_at is not None:
            return "done"
        if event.next_attempt_at is None or event.next_attempt_at > now:
            return "not_due"
        if _earlier_undelivered(event):
            return "waiting"
        lease = webhook_http.attempt_deadline() + 30  # longer than any attempt can take (its deadline)
        WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=now + dt.timedelta(seconds=lease))
        partner = event.partner
        url, secret = partner.webhook_url, partner.webhook_secret
        withheld, withheld_for_good = _withheld_because(event)
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
    if withheld:
        result = webhook_http.PostResult(None, "", withheld, 0)
    elif not url:
        result = webhook_http.PostResult(None, "", "the partner has no webhook URL", 0)
    else:
        stamp = int(time.time())
        try:
            result = webhook_http.post(url=url, body=body, headers={
                signing.TIMESTAMP_HEADER: str(stamp),
                signing.SIGNATURE_HEADER: signing.sign(secret=secret, timestamp=stamp, body=body),
                "INTRASA-Event-Id": str(event.public_id), "INTRASA-Event-Type": event.event_type,
                "INTRASA-Sequence": str(event.sequence), "User-Agent": "INTRASA-Webhooks/1",
            })
        except Exception as exc:  # noqa: BLE001 - whatever failed, the attempt is counted below: an
            # exception here would leave the event leased, never counted, due again and again.
            logger.exception("webhook %s to partner %s failed unexpectedly", event.pk, partner.pk)
            result = webhook_http.PostResult(None, "", f"failed: {type(exc).__name__}", 0)
    with transaction.atomic():
        event = locks.lock(WebhookEvent, event_id)
        done_at = timezone.now()
        WebhookAttempt.objects.create(event=event, attempted_at=done_at, url=url[:500], status_code=result.status_code,
                                      response_excerpt=result.excerpt, error=result.error,
                                      duration_ms=result.duration_ms)
        attempts = event.attempt_count + 1
        if result.succeeded:
            WebhookEvent.objects.filter(pk=event.pk).update(attempt_count=attempts, delivered_at=done_at,
                                                            next_attempt_at=None)
            following = (WebhookEvent.objects.filter(partner_transaction_id=event.partner_transaction_id,
                                                     sequence__gt=event.sequence, delivered_at__isnull=True,
                                                     gave_up_at__isnull=True)
                         .order_by("sequence").values_list("pk", flat=True).first())
            if following is not None:
                enqueue("partners.tasks.deliver_webhook", following)
            return "delivered"
        retry_at = done_at + _backoff(attempts)
        if withheld_for_good or retry_at - event.created_at > dt.timedelta(days=settings.PARTNER_WEBHOOK_RETRY_DAYS):
            WebhookEvent.objects.filter(pk=event.pk).update(attempt_count=attempts, gave_up_at=done_at,
                                                            next_attempt_at=None)
            return "withheld" if withheld_for_good else "gave_up"
        WebhookEvent.objects.filter(pk=event.pk).update(attempt_count=attempts, next_attempt_at=retry_at)
        return "withheld" if withheld else "retry"


def webhook_redeliver(*, event: WebhookEvent) -> WebhookEvent:
    """The partner asks for an event again (delivered, failed or pending): it is due now."""
    with transaction.atomic():
        locked = locks.lock(WebhookEvent, event.pk)
        WebhookEvent.objects.filter(pk=locked.pk).update(delivered_at=None, gave_up_at=None,
                                                         next_attempt_at=timezone.now())
        enqueue("partners.tasks.deliver_webhook", locked.pk)
    event.refresh_from_db()
    return event



def partner_records_prune() -> dict[str, int]:
    """Housekeeping (daily beat job): idempotency answers older than ``PARTNER_IDEMPOTENCY_DAYS``
    (a key reused after that is a new request, as documented) and authorization codes past their
    two minutes."""
    now = timezone.now()
    answers, _kinds = IdempotencyRecord.objects.filter(
        created_at__lt=now - dt.timedelta(days=settings.PARTNER_IDEMPOTENCY_DAYS)).delete()
    codes, _kinds = AuthorizationCode.objects.filter(expires_at__lt=now).delete()
    return {"idempotency_records": answers, "authorization_codes": codes}
