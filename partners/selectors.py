"""Reads of the partner API: a partner sees only its own rows."""
import base64
import binascii
import datetime as dt
import json

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from transactions.models import TransactionEvent
from transactions.selectors import refund_outstanding

from .models import SCOPE_TRANSACTIONS_READ, PartnerTransaction, SellerLink, WebhookAttempt, WebhookEvent


class CursorError(ValueError):
    """A cursor that this API did not hand out."""


def encode_cursor(row: PartnerTransaction) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        when = dt.datetime.fromisoformat(stamp)
        if not isinstance(pk, int) or isinstance(pk, bool) or when.tzinfo is None:
            raise ValueError
        return when, pk
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise CursorError("invalid cursor") from None


def readable(link_path: str = "link") -> Q:
    """``SellerLink.lets_partner_read`` as a filter on the rows whose link is at ``link_path``.
    ``icontains`` on the JSON text rather than JSON containment, which SQLite (``make run``) lacks;
    the quotes make it match the whole scope, and scopes are a fixed vocabulary (``LINK_SCOPES``)."""
    return Q(**{f"{link_path}__scopes__icontains": f'"{SCOPE_TRANSACTIONS_READ}"'})


def partner_transaction_list(*, partner, status: str | None = None, created_after: dt.datetime | None = None,
                             created_before: dt.datetime | None = None, cursor: str | None = None,
                             limit: int = 50) -> tuple[list[PartnerTransaction], str | None]:
    """One page of the partner's transactions, newest first (keyset pagination on
    ``(created_at, id)``: stable while new ones arrive), and the cursor of the next page. Only those
    whose seller lets the partner read them (the link's scopes include ``transactions:read``)."""
    qs = (PartnerTransaction.objects.filter(readable(), partner=partner)
          .select_related("escrow_transaction", "link").order_by("-created_at", "-id"))
    if status:
        qs = qs.filter(escrow_transaction__status=status)
    if created_after:
        qs = qs.filter(created_at__gte=created_after)
    if created_before:
        qs = qs.filter(created_at__lt=created_before)
    if cursor:
        when, pk = decode_cursor(cursor)
        qs = qs.filter(Q(created_at__lt=when) | Q(created_at=when, pk__lt=pk))
    page = list(qs.annotate(refund_owed=refund_outstanding("escrow_transaction_id"))[: limit + 1])
    for row in page:
        # The status label of a refunded transaction reads the refund still owed: given here, once
        # for the page, instead of a ledger query per refunded row.
        row.escrow_transaction.__dict__["_buyer_refund_outstanding"] = row.refund_owed
    rows: list[PartnerTransaction] = list(page)
    following = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], following


def partner_transaction_get(*, partner, reference: str) -> PartnerTransaction | None:
    """The partner's own transaction, or ``None`` (another partner's or a website one: unknown)."""
    return (PartnerTransaction.objects.select_related("escrow_transaction", "link__user", "partner")
            .filter(partner=partner, escrow_transaction__reference=reference).first())


def partner_transaction_timeline(*, partner_transaction) -> QuerySet[TransactionEvent]:
    return TransactionEvent.objects.filter(escrow_transaction_id=partner_transaction.escrow_transaction_id
                                           ).order_by("created_at", "id")


def link_list_for_user(*, user) -> QuerySet[SellerLink]:
    return SellerLink.objects.filter(user=user).select_related("partner").order_by("revoked_at", "-created_at")


def link_get(*, partner, public_id) -> SellerLink | None:
    return SellerLink.objects.filter(partner=partner, public_id=public_id).first()


def webhook_event_list(*, partner, reference: str | None = None, limit: int = 100) -> QuerySet[WebhookEvent]:
    """The partner's events of transactions it may read (``readable``), newest first."""
    qs = (WebhookEvent.objects.filter(readable("partner_transaction__link"), partner=partner)
          .select_related("partner_transaction__escrow_transaction")
          .order_by("-created_at", "-id"))
    if reference:
        qs = qs.filter(partner_transaction__escrow_transaction__reference=reference)
    return qs[:limit]


def webhook_event_get(*, partner, public_id) -> WebhookEvent | None:
    return (WebhookEvent.objects.filter(readable("partner_transaction__link"), partner=partner, public_id=public_id)
            .select_related("partner_transaction__escrow_transaction").first())


def webhook_attempts(*, event) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(event=event).order_by("attempted_at", "id")


def due_webhook_event_ids(*, limit: int) -> list[int]:
    """Events due for an attempt that are first in line for their transaction (delivery is ordered
    by sequence per transaction; an event waits while an earlier one is still being retried)."""
    earlier_pending = WebhookEvent.objects.filter(
        partner_transaction_id=OuterRef("partner_transaction_id"), sequence__lt=OuterRef("sequence"),
        delivered_at__isnull=True, gave_up_at__isnull=True)
    return list(WebhookEvent.objects.filter(delivered_at__isnull=True, gave_up_at__isnull=True,
                                            next_attempt_at__lte=timezone.now())
                .filter(~Exists(earlier_pending)).order_by("next_attempt_at", "id")
                .values_list("pk", flat=True)[:limit])
