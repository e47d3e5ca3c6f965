"""Which pages show staff someone's personal data, and how each one is logged.

``WATCHED`` maps a URL name to the kind of record it shows and how to find whose data it is. The
middleware (``privacy.middleware``) consults it on every request, so the views that serve these
records (the dispute evidence view, the refund document view, the admin change pages) need no code
of their own, and a new page is covered by adding one line here.

Sensitive files (dispute evidence, refund documents such as bank statements, and the identity kept
after an erasure) are served to staff only after they give a reason on ``privacy:staff_access``;
the reason is remembered in their session for ``GRANT_MINUTES`` so that a photo can be looked at
more than once, and every serving is logged with it. A party to the transaction looking at their
own case is not staff access and is not logged.
"""
import datetime as dt
from dataclasses import dataclass
from typing import Callable

from django.contrib.auth import get_user_model
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.models import PayoutDestination
from disputes.models import Dispute
from disputes.selectors import evidence_get_for_user
from payments.models import BankStatementLine
from refunds.models import RefundRequest
from refunds.selectors import refund_document_get_for_user

from .models import RetainedIdentity, StaffAccessLog

GRANT_MINUTES = 10
SESSION_KEY = "privacy.access_grants"


@dataclass(frozen=True)
class Target:
    object_id: int
    subjects: tuple  # users whose data it is (one log line each)
    parties: frozenset  # user ids for whom it is their own case: not staff access


@dataclass(frozen=True)
class Watched:
    kind: str  # StaffAccessLog.Kind
    needs_reason: bool
    load: Callable[[int, object], Target | None]  # (pk, staff user) → the record, if they may see it
    url: Callable[[int], str]
    slug: str = ""  # for the reason page's URL (only when needs_reason)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _evidence(pk: int, user) -> Target | None:
    # The owning app decides who may see it; someone who may not gets its 404, never a reason
    # page that would tell them the file exists.
    try:
        item = evidence_get_for_user(user=user, pk=pk)
    except Http404:
        return None
    txn = item.dispute.escrow_transaction
    return Target(pk, (item.uploaded_by,), frozenset({txn.seller_id, txn.buyer_id}))


def _refund_document(pk: int, user) -> Target | None:
    try:
        doc = refund_document_get_for_user(user=user, pk=pk)
    except Http404:
        return None
    txn = doc.request.escrow_transaction
    return Target(pk, (doc.request.buyer,), frozenset({txn.seller_id, txn.buyer_id}))


# Admin pages check their own permissions; these only find whose data the page shows.

def _user(pk: int, user=None) -> Target | None:
    user = get_user_model().objects.filter(pk=pk).first()
    return Target(pk, (user,), frozenset({pk})) if user is not None else None


def _payout_destination(pk: int, user=None) -> Target | None:
    destination = PayoutDestination.objects.select_related("owner").filter(pk=pk).first()
    if destination is None:
        return None
    return Target(pk, (destination.owner,), frozenset({destination.owner_id}))


def _bank_statement_line(pk: int, user=None) -> Target | None:
    line = BankStatementLine.objects.select_related("matched_bill__escrow_transaction__buyer").filter(pk=pk).first()
    if line is None:
        return None
    buyer = line.matched_bill.escrow_transaction.buyer if line.matched_bill_id else None
    return Target(pk, (buyer,) if buyer is not None else (), frozenset())


def _refund_request(pk: int, user=None) -> Target | None:
    req = RefundRequest.objects.select_related("buyer").filter(pk=pk).first()
    return Target(pk, (req.buyer,), frozenset()) if req is not None else None


def _dispute(pk: int, user=None) -> Target | None:
    dispute = Dispute.objects.select_related("escrow_transaction__seller", "escrow_transaction__buyer").filter(pk=pk).first()
    if dispute is None:
        return None
    txn = dispute.escrow_transaction
    return Target(pk, tuple(person for person in (txn.buyer, txn.seller) if person is not None), frozenset())


def _retained_identity(pk: int, user=None) -> Target | None:
    if user is not None and not user.has_perm("privacy.view_retainedidentity"):
        return None  # the admin refuses them anyway; no reason page for what they cannot open
    identity = RetainedIdentity.objects.select_related("erasure__user").filter(pk=pk).first()
    return Target(pk, (identity.erasure.user,), frozenset()) if identity is not None else None


def _admin_url(name: str) -> Callable[[int], str]:
    return lambda pk: reverse(f"admin:{name}_change", args=[pk])


Kind = StaffAccessLog.Kind
WATCHED: dict[str, Watched] = {
    "disputes:evidence": Watched(Kind.EVIDENCE, True, _evidence,
                                 lambda pk: reverse("disputes:evidence", kwargs={"pk": pk}), slug="bukti"),
    "refunds:document": Watched(Kind.REFUND_DOCUMENT, True, _refund_document,
                                lambda pk: reverse("refunds:document", kwargs={"pk": pk}), slug="dokumen"),
    "admin:privacy_retainedidentity_change": Watched(Kind.RETAINED_IDENTITY, True, _retained_identity,
                                                     _admin_url("privacy_retainedidentity"), slug="identitas"),
    "admin:accounts_user_change": Watched(Kind.USER_PROFILE, False, _user, _admin_url("accounts_user")),
    "admin:accounts_payoutdestination_change": Watched(Kind.PAYOUT_DESTINATION, False, _payout_destination,
                                                       _admin_url("accounts_payoutdestination")),
    "admin:payments_bankstatementline_change": Watched(Kind.BANK_STATEMENT_LINE, False, _bank_statement_line,
                                                       _admin_url("payments_bankstatementline")),
    "admin:refunds_refundrequest_change": Watched(Kind.REFUND_REQUEST, False, _refund_request,
                                                  _admin_url("refunds_refundrequest")),
    "admin:disputes_dispute_change": Watched(Kind.DISPUTE, False, _dispute, _admin_url("disputes_dispute")),
}
BY_SLUG = {watched.slug: watched for watched in WATCHED.values() if watched.slug}


def object_pk(view_kwargs: dict) -> int | None:
    """The record's primary key from a watched view's URL (``pk`` or the admin's ``object_id``)."""
    return _int(view_kwargs.get("pk", view_kwargs.get("object_id")))


# --- reasons remembered in the staff member's session ------------------------------------------

def _grant_key(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def grant_give(request, *, kind: str, pk: int, reason: str) -> None:
    grants = {key: value for key, value in request.session.get(SESSION_KEY, {}).items()
              if dt.datetime.fromisoformat(value["until"]) > timezone.now()}
    until = timezone.now() + dt.timedelta(minutes=GRANT_MINUTES)
    grants[_grant_key(kind, pk)] = {"reason": reason, "until": until.isoformat()}
    request.session[SESSION_KEY] = grants


def grant_reason(request, *, kind: str, pk: int) -> str | None:
    grant = request.session.get(SESSION_KEY, {}).get(_grant_key(kind, pk))
    if grant is None or dt.datetime.fromisoformat(grant["until"]) <= timezone.now():
        return None
    return grant["reason"]
