"""The partner API, ``/api/v1/`` (django-ninja; schema at ``/api/v1/openapi.json``, docs at
``/api/v1/docs``).

Views are thin: they check the key's scope, validate the input (the website's own
``TransactionCreateForm`` judges the terms, so the API accepts exactly what the website accepts),
and call ``partners.services``. Every error has one shape, ``{"error": {"code", "message",
"details"}}``; bad input is a 4xx, never a 500.
"""
import datetime as dt
import functools
import logging
import math
import re
import time
import uuid
from typing import Annotated, Literal

import redis
from csp.decorators import csp_update
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Header, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import AfterValidator, ConfigDict, StrictBool, StrictInt, StrictStr

from intrasa.errors import ServiceError
from intrasa.money import BIGINT_MAX
from intrasa.ratelimit import PARTNER_API, PARTNER_API_BAD_KEYS, counted_address
from intrasa.unavailable import UNAVAILABLE_RETRY_AFTER, unavailable_message
from transactions.forms import ReasonForm, TransactionCreateForm
from transactions.models import Status as TransactionStatus
from transactions.services import TransactionActionError, invitation_path

from . import selectors, services
from .models import (
    KEY_SCOPES,
    SCOPE_TRANSACTIONS_READ,
    SCOPE_TRANSACTIONS_WRITE,
    SCOPE_WEBHOOKS_READ,
    SCOPE_WEBHOOKS_WRITE,
    ApiKey,
    PartnerTransaction,
)
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

logger = logging.getLogger(__name__)

DESCRIPTION = f"""
INTRASA's escrow for forums and marketplaces. A seller links their INTRASA account to your
platform once (consent page); you then create escrow transactions in their name, show the buyer
INTRASA's links to accept and pay, and receive a signed webhook for every step. Money decisions
(accept, pay, confirm, dispute) are always taken by the people on INTRASA's own pages.

**Authentication.** `Authorization: Bearer intrasa_<key id>_<secret>`. Keys are issued by INTRASA
staff, shown once, scoped ({", ".join(KEY_SCOPES)}), rotatable and revocable.

**Linking a seller.** Send the seller to `/mitra/otorisasi/?client_id=…&redirect_uri=…&scope=transactions:read
transactions:write&state=…`. After they approve, INTRASA redirects to your `redirect_uri` with
`code` and your `state`; exchange the code (single use, 2 minutes) at `POST /api/v1/links/exchange`
for a `link_id`. A denial returns `error=access_denied`. Reading a transaction needs the seller's
`transactions:read` as well as the key's: without it the transaction answers 403 `insufficient_scope`
and the list leaves it out.

**Idempotency.** Every POST needs an `Idempotency-Key` header (up to 255 printable characters,
e.g. a UUID). A retry with the same key returns the first answer (with `Idempotent-Replayed: true`)
and creates nothing twice, even when copies arrive at the same moment. The same key with a
different request is refused with 422 `idempotency_key_reused`. Keys are per partner and kept for
{settings.PARTNER_IDEMPOTENCY_DAYS} days.

**Errors.** Always `{{"error": {{"code": "...", "message": "...", "details": [{{"field": "...",
"message": "..."}}]}}}}`. Messages follow `Accept-Language` (`id` default, `en`). Codes include
`unauthorized` (401), `insufficient_scope` (403), `not_found` / `link_not_found` (404),
`illegal_transition` (409), `invalid_request` / `idempotency_key_reused` (422),
`malformed_request` / `idempotency_key_required` / `invalid_grant` / `invalid_cursor` (400),
`rate_limited` (429) and the transaction rules' own codes (422, e.g. `amount_out_of_range`,
`daily_limit`).

**Rate limits.** {settings.PARTNER_API_RATE_LIMIT} requests per key per minute. Every answer carries
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds); a 429 adds `Retry-After`.
An address that sends {PARTNER_API_BAD_KEYS.limit} wrong keys (no key has that secret) within an hour gets
429 for every keyed request until that hour is over. A revoked or expired key of yours is answered 401
and does not count: it only uses its own per-minute budget.

**Webhooks.** Each transition of your transaction is POSTed to your webhook URL as JSON
`{{"id", "type", "sequence", "created_at", "data": {{"reference", "external_id", "action",
"from_status", "to_status"}}}}`, of type `transaction.created`, `.accepted`, `.paid`, `.verified`,
`.payment_short`, `.shipped`, `.confirmed`, `.disbursed`, `.payout_returned`, `.cancelled`, `.expired`,
`.disputed`, `.dispute_released`, `.dispute_split`, `.refunded` or `.payment_reversed` (the payment
provider took the buyer's payment back: `to_status` says whether the transaction waits for a payment
again or ended). Headers: `{TIMESTAMP_HEADER}` (Unix seconds) and
`{SIGNATURE_HEADER}: v1=<hex HMAC-SHA256(signing secret, timestamp + "." + raw body)>`. Verify the
signature over the raw bytes in constant time and refuse timestamps older than 5 minutes. Answer
2xx within 10 seconds. Delivery is at least once (deduplicate by `id`), in `sequence` order per
transaction; failures are retried with exponential backoff (30 s doubling to 6 h) for
{settings.PARTNER_WEBHOOK_RETRY_DAYS} days. Every attempt is listed at
`GET /api/v1/webhooks/events/{{id}}`; `POST …/redeliver` sends an event again. A webhook follows the
same consent as reading: while the seller's link lacks `transactions:read` (or the partner is
deactivated) its events are withheld (an attempt is recorded, nothing is sent) and left out of the list;
once the seller grants reading (or staff reactivate the partner) they go out, in order.
"""


class RateLimited(Exception):
    def __init__(self, retry_after: int, *, bad_keys: bool = False):
        self.retry_after = retry_after
        self.bad_keys = bad_keys  # the address sent too many keys that open nothing (not this key's budget)


class PartnerAPI(NinjaAPI):
    """Every answer — success or error — carries the key's rate-limit headers."""

    def _with_limits(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        limits = getattr(request, "partner_ratelimit", None)
        if limits is not None:
            response["RateLimit-Limit"], response["RateLimit-Remaining"], response["RateLimit-Reset"] = (
                str(value) for value in limits)
        return response

    def create_response(self, request, data, *, status=None, temporal_response=None):
        return self._with_limits(request, super().create_response(
            request, data, status=status, temporal_response=temporal_response))

    def create_temporal_response(self, request):
        return self._with_limits(request, super().create_temporal_response(request))


class ApiKeyAuth(HttpBearer):
    """The key, its rate limit, then its scope: all before the body is read, so a key without the
    scope learns nothing about the endpoint's input."""

    def __init__(self, scope: str | None = None):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token):
        ip = counted_address(request)
        # A place in the address's budget before the look-up, kept only if the key was a guess: a
        # burst of guesses cannot all pass a check made before the first of them is counted.
        place = PARTNER_API_BAD_KEYS.reserve(ip)
        if place is None:
            raise RateLimited(PARTNER_API_BAD_KEYS.retry_after(ip), bad_keys=True)
        # Only guesses count against the address: a malformed key costs no look-up, and a retired
        # key (a worker left on the key rotated out) is the partner's own, which must not shut its
        # live key out from that address. A retired key is bounded by its own budget below.
        check = place.look_up(lambda: services.api_key_check(raw_key=token), is_guess=lambda check: check.guess)
        key = check.key or check.retired
        if key is None:
            return None
        now = time.time()
        window = PARTNER_API.window
        count = PARTNER_API.count(str(key.pk), str(int(now // window)))
        reset = max(1, math.ceil(window - now % window))
        request.partner_ratelimit = (PARTNER_API.limit, max(0, PARTNER_API.limit - count), reset)
        if count > PARTNER_API.limit:
            raise RateLimited(reset)
        if check.key is None:
            return None  # retired: 401
        if self.scope is not None and self.scope not in key.scopes:
            raise services.PartnerError(_("This API key lacks the scope %(scope)s.") % {"scope": self.scope},
                                        code="insufficient_scope", status=403)
        return key


# The docs page is Swagger UI from ninja's own static files (no CDN), under the site's CSP. Its
# stylesheet draws icons as data: SVG images, so this page alone also allows data: images.
api = PartnerAPI(title="INTRASA Partner API", version="1.0.0", description=DESCRIPTION, auth=ApiKeyAuth(),
                 urls_namespace="partners_api", docs_url="/docs", openapi_url="/openapi.json",
                 docs_decorator=csp_update({"img-src": ["data:"]}))


# --- errors -----------------------------------------------------------------------------------

class ErrorDetail(Schema):
    field: str
    message: str


class ErrorBody(Schema):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorOut(Schema):
    error: ErrorBody


def error_response(request, status: int, code: str, message: str, details: list | None = None) -> HttpResponse:
    return api.create_response(request, {"error": {"code": code, "message": message, "details": details or []}},
                               status=status)


@api.exception_handler(ServiceError)
def _service_error(request, exc: ServiceError):
    return error_response(request, services.refusal_status(exc), exc.code, exc.message)


# Pydantic's own messages are English only: each kind of error it reports is said here, in the
# request's language (Indonesian unless Accept-Language asks for English), with its limits.
_FIELD_MESSAGES = {
    "missing": lambda ctx: _("This field is required."),
    "extra_forbidden": lambda ctx: _("This field is not accepted."),
    "int_type": lambda ctx: _("Enter a whole number."),
    "int_parsing": lambda ctx: _("Enter a whole number."),
    "int_from_float": lambda ctx: _("Enter a whole number."),
    "bool_type": lambda ctx: _("Enter true or false."),
    "bool_parsing": lambda ctx: _("Enter true or false."),
    "string_type": lambda ctx: _("Enter text."),
    "string_too_long": lambda ctx: _("Enter at most %(limit)s characters.") % {"limit": ctx.get("max_length")},
    "string_too_short": lambda ctx: _("Enter at least %(limit)s characters.") % {"limit": ctx.get("min_length")},
    "uuid_type": lambda ctx: _("Enter a valid id (a UUID)."),
    "uuid_parsing": lambda ctx: _("Enter a valid id (a UUID)."),
    "greater_than_equal": lambda ctx: _("Enter a value of at least %(limit)s.") % {"limit": ctx.get("ge")},
    "less_than_equal": lambda ctx: _("Enter a value of at most %(limit)s.") % {"limit": ctx.get("le")},
    "greater_than": lambda ctx: _("Enter a value greater than %(limit)s.") % {"limit": ctx.get("gt")},
    "less_than": lambda ctx: _("Enter a value less than %(limit)s.") % {"limit": ctx.get("lt")},
    "literal_error": lambda ctx: _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected")},
    "datetime_type": lambda ctx: _("Enter a date and time (ISO 8601)."),
    "datetime_parsing": lambda ctx: _("Enter a date and time (ISO 8601)."),
    "datetime_from_date_parsing": lambda ctx: _("Enter a date and time (ISO 8601)."),
    # Our own validators raise ValueError with a message already in the request's language.
    "value_error": lambda ctx: str(ctx.get("error", "")) or _("This value is not valid."),
}


def _field_message(error: dict) -> str:
    say = _FIELD_MESSAGES.get(str(error.get("type", "")))
    return say(error.get("ctx") or {}) if say else _("This value is not valid.")


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    details = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())[1:]]
        if location and location[0] in ("payload", "filters"):  # the view's parameter, not a field
            location = location[1:]
        details.append({"field": ".".join(location) or "body", "message": _field_message(error)})
    return error_response(request, 422, "invalid_request", _("The request is not valid; see the details."), details)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    response = error_response(request, 401, "unauthorized", _("A valid API key is required (Authorization: Bearer …)."))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = "malformed_request" if exc.status_code == 400 else "http_error"
    return error_response(request, exc.status_code, code, _("The request body is not valid JSON.")
                          if exc.status_code == 400 else str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    message = (_("Too many requests with an API key that is not valid came from your address; try again "
                 "after Retry-After seconds.") if exc.bad_keys
               else _("Too many requests for this API key; try again after Retry-After seconds."))
    response = error_response(request, 429, "rate_limited", message)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(redis.RedisError)
def _unavailable(request, exc):
    """Redis unreachable: the key's limits cannot be checked, so the call is refused, to be retried."""
    logger.exception("partner API: the cache is unreachable")
    response = error_response(request, 503, "temporarily_unavailable", unavailable_message())
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response


@api.exception_handler(Exception)
def _server_error(request, exc):
    logger.exception("partner API error")
    return error_response(request, 500, "server_error", _("Something went wrong on our side; please try again."))


def _refuse(status: int, code: str, message: str):
    raise services.PartnerError(message, code=code, status=status)


def _key(request) -> ApiKey:
    return request.auth


def _check_idempotency_key(key: str | None) -> str:
    if not key or len(key) > 255 or not key.isprintable() or not key.isascii():
        _refuse(400, "idempotency_key_required",
                _("Send an Idempotency-Key header (1 to 255 printable ASCII characters) with every POST."))
    assert key is not None
    return key


IDEMPOTENCY_KEY = Header(None, alias="Idempotency-Key",
                         description="Required on every POST: a retry with the same key returns the first answer.")


def _idempotent(request, response: HttpResponse, key: str | None, payload: dict, work):
    key = _check_idempotency_key(key)
    fingerprint = services.request_fingerprint(method=request.method, path=request.path, payload=payload)
    status, body, replayed = services.idempotent_call(partner=_key(request).partner, key=key,
                                                      fingerprint=fingerprint, work=work)
    if status >= 400:  # a stored refusal is replayed as it was given
        response = api.create_response(request, body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response if status >= 400 else Status(status, body)


# --- schemas ----------------------------------------------------------------------------------

class Links(Schema):
    accept_url: str = Field(description="Send the buyer here to review and accept the terms (login required).")
    pay_url: str = Field(description="After accepting, the buyer pays here.")
    transaction_url: str = Field(description="The transaction's page on INTRASA for both parties.")
    status_url: str = Field(description="Cek Transaksi: public status by reference, no personal data.")


class TransactionOut(Schema):
    reference: str
    external_id: str
    link_id: uuid.UUID
    status: str
    status_label: str
    title: str
    description: str
    category: str
    price: int
    shipping_cost: int
    fee_payer: str
    fee: int
    buyer_fee: int
    seller_fee: int
    amount_due: int
    seller_receives: int
    buyer_email: str
    buyer_phone: str
    buyer_accepted: bool
    inspection_days: int
    shipping_days: int
    created_at: dt.datetime
    invitation_expires_at: dt.datetime
    accepted_at: dt.datetime | None
    payment_due_at: dt.datetime | None
    paid_at: dt.datetime | None
    verified_at: dt.datetime | None
    shipped_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    closed_at: dt.datetime | None
    links: Links


class TransactionPage(Schema):
    items: list[TransactionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class TimelineEntry(Schema):
    action: str
    label: str
    from_status: str | None
    to_status: str | None
    role: str
    at: dt.datetime


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(_("Remove the NUL character from this text."))
    return value


# Every text field of a request body. PostgreSQL text cannot hold NUL: a field that reaches the
# database without a Django form in between (external_id) answered 500; now any NUL is a 422
# naming the field, whichever field it is in.
Text = Annotated[StrictStr, AfterValidator(_without_nul)]


class TransactionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    link_id: uuid.UUID = Field(description="From POST /links/exchange: the seller who sells.")
    external_id: Text = Field("", max_length=100, description="Your own id for this sale (echoed in webhooks).")
    title: Text = Field(max_length=150)
    description: Text = Field(max_length=5000)
    category: Literal["physical", "service", "digital"]
    price: StrictInt = Field(ge=0, le=BIGINT_MAX, description="Whole Rupiah.")
    shipping_cost: StrictInt = Field(0, ge=0, le=BIGINT_MAX, description="Whole Rupiah; physical goods only.")
    fee_payer: Literal["buyer", "seller", "split"] = "buyer"
    inspection_days: StrictInt = Field(settings.INTRASA_INSPECTION_DAYS_DEFAULT, ge=0, le=1000)
    shipping_days: StrictInt = Field(2, ge=0, le=1000)
    buyer_email: Text = Field("", max_length=254)
    buyer_phone: Text = Field("", max_length=30)
    accepts_returns: StrictBool = False
    restocking_fee_percent: StrictInt = Field(0, ge=0, le=100)
    is_licence_or_voucher: StrictBool = False


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=2000)


class ExchangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: Text = Field(max_length=200)
    redirect_uri: Text = Field(max_length=500)


class LinkOut(Schema):
    link_id: uuid.UUID
    active: bool
    scopes: list[str]
    seller_name: str
    linked_at: dt.datetime
    revoked_at: dt.datetime | None


class AttemptOut(Schema):
    attempted_at: dt.datetime
    url: str
    status_code: int | None
    response_excerpt: str
    error: str
    duration_ms: int


class EventOut(Schema):
    id: uuid.UUID
    type: str
    sequence: int
    reference: str
    created_at: dt.datetime
    payload: dict
    delivery_state: Literal["pending", "delivered", "failed"]
    attempt_count: int
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


class EventDetailOut(EventOut):
    attempts: list[AttemptOut]


ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}


# --- serialisation ----------------------------------------------------------------------------

def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _iso(value):
    return value.isoformat() if value else None


def transaction_body(bound: PartnerTransaction) -> dict:
    txn = bound.escrow_transaction
    return {
        "reference": txn.reference, "external_id": bound.external_id, "link_id": str(bound.link.public_id),
        "status": txn.status, "status_label": txn.status_label, "title": txn.title,
        "description": txn.description, "category": txn.category, "price": txn.price,
        "shipping_cost": txn.shipping_cost, "fee_payer": txn.fee_payer, "fee": txn.fee_amount,
        "buyer_fee": txn.buyer_fee, "seller_fee": txn.seller_fee, "amount_due": txn.amount_due,
        "seller_receives": txn.seller_receives, "buyer_email": txn.buyer_email, "buyer_phone": txn.buyer_phone,
        "buyer_accepted": txn.is_accepted, "inspection_days": txn.inspection_days,
        "shipping_days": txn.shipping_days, "created_at": _iso(txn.created_at),
        "invitation_expires_at": _iso(txn.invitation_expires_at), "accepted_at": _iso(txn.accepted_at),
        "payment_due_at": _iso(txn.payment_due_at), "paid_at": _iso(txn.paid_at),
        "verified_at": _iso(txn.verified_at), "shipped_at": _iso(txn.shipped_at),
        "confirmed_at": _iso(txn.confirmed_at), "closed_at": _iso(txn.closed_at),
        "links": {
            "accept_url": _absolute(invitation_path(txn)),
            "pay_url": _absolute(reverse("payments:pay", kwargs={"reference": txn.reference})),
            "transaction_url": _absolute(txn.get_absolute_url()),
            "status_url": _absolute(reverse("pages:check_transaction") + f"?reference={txn.reference}"),
        },
    }


def _event_body(event) -> dict:
    return {"id": event.public_id, "type": event.event_type, "sequence": event.sequence,
            "reference": event.partner_transaction.escrow_transaction.reference, "created_at": event.created_at,
            "payload": event.payload, "delivery_state": event.delivery_state, "attempt_count": event.attempt_count,
            "next_attempt_at": event.next_attempt_at, "delivered_at": event.delivered_at}


REFERENCE = re.compile(r"[A-Z0-9-]{1,40}", re.ASCII)


def _own_transaction(request, reference: str) -> PartnerTransaction:
    bound = None
    if REFERENCE.fullmatch(reference):
        bound = selectors.partner_transaction_get(partner=_key(request).partner, reference=reference)
    if bound is None:
        _refuse(404, "not_found", _("No transaction of this partner has that reference."))
    assert bound is not None
    return bound


def _readable_transaction(request, reference: str) -> PartnerTransaction:
    """The partner's own transaction, if the seller lets it read it: the key's scope is not enough, the
    seller's consent (the link's scopes, as last approved) must include ``transactions:read`` too."""
    bound = _own_transaction(request, reference)
    if not bound.link.lets_partner_read:
        _refuse(403, "insufficient_scope", _("The seller did not grant this partner the scope %(scope)s.")
                % {"scope": SCOPE_TRANSACTIONS_READ})
    return bound


# --- links --------------------------------------------------------------------------------------

def _link_body(link) -> dict:
    return {"link_id": str(link.public_id), "active": link.is_active, "scopes": link.scopes,
            "seller_name": link.user.full_name, "linked_at": _iso(link.created_at), "revoked_at": _iso(link.revoked_at)}


@api.post("/links/exchange", response={200: LinkOut, **ERRORS}, tags=["links"],
          summary="Exchange an authorization code for the seller's link id", auth=ApiKeyAuth(SCOPE_TRANSACTIONS_WRITE))
def exchange_code(request, response: HttpResponse, payload: ExchangeIn, idempotency_key: str | None = IDEMPOTENCY_KEY):
    partner = _key(request).partner

    def work():
        link = services.authorization_code_exchange(partner=partner, code=payload.code,
                                                    redirect_uri=payload.redirect_uri)
        return 200, _link_body(link)

    return _idempotent(request, response, idempotency_key, payload.model_dump(), work)


@api.get("/links/{link_id}", response={200: LinkOut, **ERRORS}, tags=["links"], summary="A seller link and its scopes",
         auth=ApiKeyAuth(SCOPE_TRANSACTIONS_READ))
def link_detail(request, link_id: uuid.UUID):
    link = selectors.link_get(partner=_key(request).partner, public_id=link_id)
    if link is None:
        _refuse(404, "link_not_found", _("Unknown link."))
    return Status(200, _link_body(link))


# --- transactions -----------------------------------------------------------------------------

class _FormInvalid(Exception):
    def __init__(self, details: list[dict]):
        self.details = details


@api.exception_handler(_FormInvalid)
def _form_invalid(request, exc: _FormInvalid):
    return error_response(request, 422, "invalid_request", _("The request is not valid; see the details."),
                          exc.details)


def _form_details(form) -> list[dict]:
    names = {"restocking_fee_percent": "restocking_fee_percent", "__all__": "body"}
    return [{"field": names.get(field, field), "message": str(message)}
            for field, messages in form.errors.items() for message in messages]


@api.post("/transactions", response={201: TransactionOut, **ERRORS}, tags=["transactions"],
          summary="Create a transaction for a linked seller (the buyer is invited by INTRASA)",
          auth=ApiKeyAuth(SCOPE_TRANSACTIONS_WRITE))
def transaction_create(request, response: HttpResponse, payload: TransactionIn,
                       idempotency_key: str | None = IDEMPOTENCY_KEY):
    _check_idempotency_key(idempotency_key)
    data = payload.model_dump()
    form = TransactionCreateForm({
        "title": data["title"], "description": data["description"], "category": data["category"],
        "price": str(data["price"]), "shipping_cost": str(data["shipping_cost"]), "fee_payer": data["fee_payer"],
        "inspection_days": str(data["inspection_days"]), "shipping_days": str(data["shipping_days"]),
        "buyer_email": data["buyer_email"], "buyer_phone": data["buyer_phone"],
        "accepts_returns": "on" if data["accepts_returns"] else "",
        "restocking_fee_percent": str(data["restocking_fee_percent"]),
        "is_licence_or_voucher": "on" if data["is_licence_or_voucher"] else "",
    })
    if not form.is_valid():
        raise _FormInvalid(_form_details(form))
    terms = {name: form.cleaned_data[name] for name in (
        "title", "description", "category", "price", "shipping_cost", "fee_payer", "inspection_days",
        "shipping_days", "buyer_email", "buyer_phone", "accepts_returns", "restocking_fee_basis_points",
        "is_licence_or_voucher")}
    partner = _key(request).partner

    def work():
        bound = services.partner_transaction_create(partner=partner, link_public_id=data["link_id"],
                                                    external_id=data["external_id"], **terms)
        return 201, transaction_body(bound)

    return _idempotent(request, response, idempotency_key, {**data, "link_id": str(data["link_id"])}, work)


class TransactionFilters(Schema):
    status: Literal[tuple(TransactionStatus.values)] | None = None  # type: ignore[valid-type]
    created_after: dt.datetime | None = Field(None, description="Inclusive, ISO 8601 with a time zone.")
    created_before: dt.datetime | None = Field(None, description="Exclusive, ISO 8601 with a time zone.")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=100)


@api.get("/transactions", response={200: TransactionPage, **ERRORS}, tags=["transactions"],
         summary="List this partner's transactions, newest first", auth=ApiKeyAuth(SCOPE_TRANSACTIONS_READ))
def transaction_list(request, filters: Query[TransactionFilters]):
    for stamp in (filters.created_after, filters.created_before):
        if stamp is not None and stamp.tzinfo is None:
            _refuse(422, "invalid_request", _("Give dates with a time zone, e.g. 2026-11-28T10:00:00+07:00."))
    try:
        rows, following = selectors.partner_transaction_list(
            partner=_key(request).partner, status=filters.status, created_after=filters.created_after,
            created_before=filters.created_before, cursor=filters.cursor, limit=filters.limit)
    except selectors.CursorError:
        _refuse(400, "invalid_cursor", _("This cursor was not given out by this API."))
    return Status(200, {"items": [transaction_body(row) for row in rows], "next_cursor": following})


@api.get("/transactions/{reference}", response={200: TransactionOut, **ERRORS}, tags=["transactions"],
         summary="One transaction", auth=ApiKeyAuth(SCOPE_TRANSACTIONS_READ))
def transaction_detail(request, reference: str):
    return Status(200, transaction_body(_readable_transaction(request, reference)))


@api.get("/transactions/{reference}/timeline", response={200: list[TimelineEntry], **ERRORS},
         tags=["transactions"], summary="The transaction's timeline (no personal data)",
         auth=ApiKeyAuth(SCOPE_TRANSACTIONS_READ))
def transaction_timeline(request, reference: str):
    bound = _readable_transaction(request, reference)
    return Status(200, [{"action": event.action, "label": event.label, "from_status": event.from_status or None,
                         "to_status": event.to_status or None, "role": event.actor_role, "at": event.created_at}
                        for event in selectors.partner_transaction_timeline(partner_transaction=bound)])


@api.get("/transactions/{reference}/links", response={200: Links, **ERRORS}, tags=["transactions"],
         summary="The buyer-facing links to show on your site", auth=ApiKeyAuth(SCOPE_TRANSACTIONS_READ))
def transaction_links(request, reference: str):
    return Status(200, transaction_body(_readable_transaction(request, reference))["links"])


class CancelledOut(Schema):
    """The answer to a cancel when the seller does not let the partner read the transaction."""
    reference: str
    external_id: str
    link_id: uuid.UUID
    status: str
    status_label: str
    closed_at: dt.datetime | None


@api.post("/transactions/{reference}/cancel", response={200: TransactionOut | CancelledOut, **ERRORS},
          tags=["transactions"], auth=ApiKeyAuth(SCOPE_TRANSACTIONS_WRITE),
          summary="Cancel before the buyer pays (as the seller); the whole transaction only with the seller's "
                  "transactions:read")
def transaction_cancel(request, response: HttpResponse, reference: str, payload: CancelIn,
                       idempotency_key: str | None = IDEMPOTENCY_KEY):
    _check_idempotency_key(idempotency_key)
    form = ReasonForm({"reason": payload.reason})
    if not form.is_valid():
        raise _FormInvalid(_form_details(form))
    bound = _own_transaction(request, reference)

    def work():
        try:
            services.partner_transaction_cancel(partner_transaction=bound, reason=form.cleaned_data["reason"])
        except TransactionActionError as exc:
            bound.link.refresh_from_db(fields=["scopes"])
            if exc.code == "illegal_transition" and not bound.link.lets_partner_read:
                # The refusal names the status ("not possible while … Paid"): a partner the seller does not let
                # read the transaction learns only that it can no longer be cancelled.
                raise services.PartnerError(_("This transaction can no longer be cancelled."),
                                            code="illegal_transition", status=409) from None
            raise
        bound.escrow_transaction.refresh_from_db()
        bound.link.refresh_from_db(fields=["scopes"])
        body = transaction_body(bound)
        if not bound.link.lets_partner_read:  # acting is not reading: the outcome, not the transaction
            body = {name: body[name] for name in CancelledOut.model_fields}
        return 200, body

    return _idempotent(request, response, idempotency_key, payload.model_dump(), work)


# --- webhooks ---------------------------------------------------------------------------------

class EventFilters(Schema):
    reference: str | None = Field(None, max_length=40, pattern=r"^[A-Z0-9-]+$", description="Only this transaction's events.")
    limit: int = Field(50, ge=1, le=200)


@api.get("/webhooks/events", response={200: list[EventOut], **ERRORS}, tags=["webhooks"],
         summary="Recent webhook events (newest first) and their delivery state", auth=ApiKeyAuth(SCOPE_WEBHOOKS_READ))
def webhook_events(request, filters: Query[EventFilters]):
    return Status(200, [_event_body(event) for event in selectors.webhook_event_list(
        partner=_key(request).partner, reference=filters.reference, limit=filters.limit)])


def _own_event(request, event_id: uuid.UUID):
    event = selectors.webhook_event_get(partner=_key(request).partner, public_id=event_id)
    if event is None:
        _refuse(404, "not_found", _("No webhook event of this partner has that id."))
    return event


@api.get("/webhooks/events/{event_id}", response={200: EventDetailOut, **ERRORS}, tags=["webhooks"],
         summary="One webhook event with every delivery attempt and your endpoint's answers",
         auth=ApiKeyAuth(SCOPE_WEBHOOKS_READ))
def webhook_event(request, event_id: uuid.UUID):
    event = _own_event(request, event_id)
    attempts = [{"attempted_at": a.attempted_at, "url": a.url, "status_code": a.status_code,
                 "response_excerpt": a.response_excerpt, "error": a.error, "duration_ms": a.duration_ms}
                for a in selectors.webhook_attempts(event=event)]
    return Status(200, {**_event_body(event), "attempts": attempts})


@api.post("/webhooks/events/{event_id}/redeliver", response={202: EventOut, **ERRORS}, tags=["webhooks"],
          summary="Deliver an event again (it is due at once; order per transaction is kept)",
          auth=ApiKeyAuth(SCOPE_WEBHOOKS_WRITE))
def webhook_redeliver(request, response: HttpResponse, event_id: uuid.UUID,
                      idempotency_key: str | None = IDEMPOTENCY_KEY):
    _check_idempotency_key(idempotency_key)
    event = _own_event(request, event_id)

    def work():
        redelivered = services.webhook_redeliver(event=event)
        body = _event_body(redelivered)
        return 202, {**body, "id": str(body["id"]), "created_at": _iso(body["created_at"]),
                     "next_attempt_at": _iso(body["next_attempt_at"]), "delivered_at": _iso(body["delivered_at"])}

    return _idempotent(request, response, idempotency_key, {"event": str(event_id)}, work)



def _methods_in_json(view):
    """Ninja answers a method an endpoint does not have with a plain-text 405; say it in the API's shape."""
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            answer = error_response(request, 405, "method_not_allowed",
                                    _("This endpoint does not take %(method)s.") % {"method": request.method[:10]})
            answer["Allow"] = response.get("Allow", "")
            return answer
        return response

    return wrapper


def urls():
    """The API's URL patterns (for ``intrasa.urls``)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = _methods_in_json(pattern.callback)
    return patterns, app_name, namespace
