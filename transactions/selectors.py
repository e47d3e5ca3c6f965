"""Reading transactions with a constant number of queries per page."""
from django.db import ProgrammingError, connection
from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django_fsm import can_proceed, has_transition_perm
from psycopg.errors import UndefinedFunction

from intrasa.prepared import Prepared

from .models import EscrowTransaction, Status, TransactionEvent


def refund_outstanding(transaction_field: str = "pk"):
    """The expression of ``EscrowTransaction.buyer_refund_outstanding`` for the transaction that
    ``transaction_field`` of the outer query names (a subquery: no query per row)."""
    from ledger.models import AccountCategory, Posting
    from ledger.selectors import SIGNED

    owed = (Posting.objects.filter(account__escrow_transaction=OuterRef(transaction_field),
                                   account__category=AccountCategory.BUYER_REFUND_PAYABLE)
            .values("account__escrow_transaction").annotate(total=-Sum(SIGNED)).values("total"))
    return Coalesce(Subquery(owed), 0)


def refundable_in_full(*, escrow_transaction, held: int | None = None) -> int:
    """What a refund in full gives the buyer: the money held (``held``, the ledger's hold when the
    caller read it; else the amount received), less INTRASA's unique-code discount on a bank transfer
    (refund policy §2: the refund follows the price after the discount; the buyer never paid the
    code). The most a split can give the buyer is less than this. One query."""
    from ledger.selectors import transaction_discount

    held = (escrow_transaction.amount_received or 0) if held is None else held
    return held - min(transaction_discount(escrow_transaction=escrow_transaction), held)


def escrow_hold_other_than(*, escrow_transaction, expected: int):
    """The transaction if its escrow hold is not ``expected`` (else no row): a release counts it in
    its own write (``transactions.writes``' ``counts``), after the transaction's lock, instead of
    reading the balance first."""
    from ledger.models import AccountCategory, Posting
    from ledger.selectors import SIGNED

    held = (Posting.objects.filter(account__escrow_transaction=OuterRef("pk"),
                                   account__category=AccountCategory.ESCROW_HOLD)
            .values("account__escrow_transaction").annotate(total=-Sum(SIGNED)).values("total"))
    return (EscrowTransaction.objects.filter(pk=escrow_transaction.pk)
            .annotate(held=Coalesce(Subquery(held), 0)).exclude(held=expected))


def with_refund_outstanding(qs):
    """Annotate ``EscrowTransaction.buyer_refund_outstanding`` (one subquery instead of a query per row)."""
    return qs.annotate(_buyer_refund_outstanding=refund_outstanding())


def transaction_list_for_user(*, user, role: str | None = None, status: str | None = None):
    """The user's transactions as seller and/or buyer."""
    qs = with_refund_outstanding(EscrowTransaction.objects.select_related("seller", "buyer"))
    if role == "seller":
        qs = qs.filter(seller=user)
    elif role == "buyer":
        qs = qs.filter(buyer=user)
    else:
        qs = qs.filter(Q(seller=user) | Q(buyer=user))
    if status in Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def pending_invitations_for(*, user):
    """Open invitations addressed to the user's email that nobody accepted yet.

    Empty until the user has verified that email: anyone can sign up with someone else's
    address, and must not see the invitations (titles, amounts, sellers) sent to it.
    """
    if user.email_verified_at is None:
        return EscrowTransaction.objects.none()
    return (EscrowTransaction.objects.select_related("seller")
            .filter(status=Status.CREATED, buyer__isnull=True, buyer_email__iexact=user.email)
            .exclude(seller=user).order_by("-created_at"))


def transaction_get_for_party(*, user, reference: str) -> EscrowTransaction:
    """A transaction the user is a party to; anyone else gets 404 (existence is not leaked)."""
    try:
        return (EscrowTransaction.objects.select_related("seller", "buyer")
                .filter(Q(seller=user) | Q(buyer=user)).get(reference=reference))
    except EscrowTransaction.DoesNotExist:
        raise Http404 from None


def transaction_detail_for_party(*, user, reference: str) -> EscrowTransaction:
    """The transaction page's transaction, in one query with what its cards would each ask for:

    * the parties (``select_related``) and the dispute, a one-to-one (``txn.dispute`` needs no query);
    * ``refund_requests_exist`` and ``viewer_payouts_exist``: whether the refund card and the payout
      card have anything to show, so that they query only when they do (most transactions have
      neither);
    * ``viewer_unread_notifications``: the header's unread count for ``user``.

    Nothing here is cached: it is one statement, so what it says about the cards and the badge is
    what the database held at the same instant as the transaction row. Only its SQL is compiled once
    per process (``intrasa.prepared``: building and compiling it was most of the page's query time).
    The dispute, refund and payout rows belong to apps above this one (DESIGN §2); they are reached by
    the relation names those apps gave them on the transaction, never imported. Anyone but a party
    gets 404."""
    return _party_row(_DETAIL_FOR_PARTY, user=user, reference=reference)


def _someone_or_404(user) -> None:
    """Nobody (anonymous, or without a saved id) is no party, not even to an invitation: 404."""
    if not user.is_authenticated or not isinstance(user.pk, int):
        raise Http404


def _party_row(read: Prepared, *, user, reference: str):
    """The one row ``read`` finds for ``reference`` if ``user`` is a party to it; else 404. The party is
    checked here rather than in the WHERE clause (the same 404 either way: existence is not leaked)."""
    _someone_or_404(user)
    rows = read.rows(user_pk=user.pk, reference=reference)
    if not rows or user.pk not in (rows[0].seller_id, rows[0].buyer_id):
        raise Http404
    return rows[0]


class _CountOfRows(Subquery):
    """``COUNT(*)`` of the rows of a (limited) subquery, as a scalar subquery: a count that stops at the
    subquery's ``LIMIT``."""
    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def _unread_count(user_pk: int):
    """The header's unread count as far as its badge shows it (``notifications.selectors``)."""
    from notifications.selectors import unread_counted_for_badge

    return _CountOfRows(unread_counted_for_badge(recipient_id=user_pk))


def _detail_for_party(*, user_pk: int, reference: str):
    return (EscrowTransaction.objects.select_related("seller", "buyer", "dispute")
            .annotate(refund_requests_exist=Exists(_rows_pointing_here("refund_requests")),
                      viewer_payouts_exist=Exists(_rows_pointing_here("payouts").filter(recipient_id=user_pk)),
                      viewer_unread_notifications=_unread_count(user_pk))
            .filter(reference=reference))


_DETAIL_FOR_PARTY = Prepared(_detail_for_party, user_pk=int, reference=str)


def transaction_page_version_for_party(*, user, reference: str):
    """The transaction page's per-request read when the page may be kept (``transactions.page_cache``):
    the same access check and 404 as ``transaction_detail_for_party``, the page's version (the
    ``PageChange`` rows of the transaction and of its two parties) and the header's unread count, in one
    statement on indexes: the PL/pgSQL function of migration transactions 0009, whose plan PostgreSQL
    keeps per connection (PostgreSQL only, as the page cache is). The version is read before any of the
    rows it covers (a miss renders after). ``PageVersionUnavailable`` when the function is not there (the
    migration not run yet): the caller renders the page."""
    from .page_cache import PageVersion, PageVersionUnavailable

    _someone_or_404(user)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM intrasa_transaction_page_version(%s, %s)", [user.pk, reference])
            row = cursor.fetchone()
    except ProgrammingError as exc:
        # Code deployed before its migration ran (or after it was rolled back): the page is rendered instead.
        # Inside an atomic block the failed statement has aborted the transaction: nothing to fall back on.
        if isinstance(exc.__cause__, UndefinedFunction) and not connection.in_atomic_block:
            raise PageVersionUnavailable from exc
        raise
    if row is None:
        raise Http404
    transaction_pk, seller_pk, buyer_pk, page_changes, party_changes, unread = row
    if user.pk not in (seller_pk, buyer_pk):  # the same 404: existence is not leaked
        raise Http404
    return PageVersion(transaction_pk=transaction_pk, version=page_changes + party_changes,
                       unread_notification_count=unread)


def _rows_pointing_here(relation: str):
    """The rows of the model that points at the transaction of the outer query by ``relation`` (the
    ``related_name`` it gave itself), for an ``Exists``."""
    model = EscrowTransaction._meta.get_field(relation).related_model
    return model._default_manager.filter(escrow_transaction=OuterRef("pk")).order_by()


def transaction_get_by_invitation(*, token: str) -> EscrowTransaction:
    try:
        return EscrowTransaction.objects.select_related("seller", "buyer").get(invitation_token=token)
    except EscrowTransaction.DoesNotExist:
        raise Http404 from None


def transaction_timeline(*, escrow_transaction):
    """The events in order. Their readers show the actor's role (``actor_role``), not the actor: the
    user row is not joined. A list, read by a statement compiled once per process (``intrasa.prepared``);
    each event's ``escrow_transaction`` is the one given (no query), as through ``escrow_transaction.events``."""
    events = _TIMELINE.rows(transaction_pk=escrow_transaction.pk)
    for event in events:
        event.escrow_transaction = escrow_transaction
    return events


def _timeline(*, transaction_pk: int):
    return TransactionEvent.objects.filter(escrow_transaction_id=transaction_pk).order_by("created_at", "id")


_TIMELINE = Prepared(_timeline, transaction_pk=int)


# The actions a party can take from the detail page, in display order.
PARTY_ACTIONS = ("ship", "confirm", "open_dispute", "cancel", "refund")


def available_actions(*, escrow_transaction, user) -> list[str]:
    """The transitions ``user`` may run on ``escrow_transaction`` right now."""
    txn = escrow_transaction
    actions = []
    for name in PARTY_ACTIONS:
        method = getattr(txn, name)
        if can_proceed(method) and has_transition_perm(method, user):
            actions.append(name)
    if "cancel" in actions and txn.role_of(user) == "buyer" and not txn.is_accepted:
        actions.remove("cancel")
    return actions


def live_token(escrow_transaction) -> str:
    """What an open page of the transaction last saw: its status and last change. The live status
    fragment compares it with the row (one query) and tells the page to refresh only on a change."""
    txn = escrow_transaction
    return f"{txn.status}.{int(txn.updated_at.timestamp() * 1000)}"


def transaction_live_token(*, user, reference: str) -> tuple[EscrowTransaction, str]:
    """The transaction (only the fields the token and its label need) and its token, in one query."""
    try:
        txn = (EscrowTransaction.objects.filter(Q(seller=user) | Q(buyer=user))
               .only("status", "updated_at", "buyer_id", "accepted_at", "seller_id").get(reference=reference))
    except EscrowTransaction.DoesNotExist:
        raise Http404 from None
    return txn, live_token(txn)


def dashboard_live_token(*, user) -> str:
    """What the dashboard last saw: how many transactions the user has and the last change to any of
    them, in one aggregate query."""
    row = (EscrowTransaction.objects.filter(Q(seller=user) | Q(buyer=user))
           .aggregate(count=Count("pk"), last=Max("updated_at")))
    last = int(row["last"].timestamp() * 1000) if row["last"] else 0
    return f"{row['count']}.{last}"


def inspection_clock(*, escrow_transaction, user) -> dict:
    """What the detail page shows about the inspection clock (``transactions.delivery``), and what the
    buyer may do about it now."""
    from django.utils import timezone

    from .delivery import EXTENSION_WORKING_DAYS, DeliverySource

    txn = escrow_transaction
    shipped = txn.status == Status.SHIPPED
    is_buyer = user.is_authenticated and user.pk == txn.buyer_id
    waiting_for_delivery = shipped and txn.needs_shipping and txn.delivery_source in ("", DeliverySource.ESTIMATE)
    return {
        "started_at": txn.delivered_at,
        "source": txn.get_delivery_source_display() if txn.delivery_source else "",
        "from_estimate": shipped and txn.needs_shipping and txn.delivery_source == "",
        "can_mark_received": is_buyer and waiting_for_delivery,
        "can_extend": (is_buyer and shipped and txn.inspection_extended_at is None
                       and txn.inspection_ends_at is not None and txn.inspection_ends_at > timezone.now()),
        "extended_at": txn.inspection_extended_at,
        "extension_days": EXTENSION_WORKING_DAYS,
    }
