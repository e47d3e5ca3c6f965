"""Every change to a payment link, and the one way a link starts a transaction.

A buyer who opens a link and presses "Buy" (signed in) starts their own transaction through the
ordinary services, in one database transaction with the link locked:

1. ``transactions.services.transaction_create`` — the seller is the link's owner, the buyer's
   (verified) email is the invited address, the terms are the link's; no invitation email is sent
   (the buyer is the one acting);
2. ``transactions.services.transaction_accept`` — pressing "Buy" on the link's page, after reading
   its terms, *is* the buyer's acceptance: the invitation step is done by that action and the
   payment window starts at once (one step fewer than an invitation, the same checks: the buyer's
   email must be verified, the buyer cannot be the seller);
3. a ``PaymentLinkUse`` row ties the transaction to the link.

The link's row is locked first (``intrasa.locks``: payment link → person → transaction), so the
most-transactions limit holds when many buyers press "Buy" at the same moment: each counts the
transactions already started after the one before it committed. Cancelled and expired transactions
do not count (the item is still for sale). A buyer who already has an unpaid transaction from the
link is sent back to it instead of starting a second.

Holds, and why they are bounded. A transaction a buyer started and has not paid yet ("awaiting
payment") holds one of the link's slots until it is paid, cancelled or expires at the end of the
payment window. A few accounts could press "Buy" everywhere and never pay, selling a seller out.
So (the lead's decision, against payment-link griefing):

* **The seller's daily invitation limit does not apply.** ``INTRASA_INVITATIONS_PER_DAY`` exists so
  a seller cannot spam invitations into other people's inboxes; on a link the buyer acts and the
  seller sends nothing. Transactions started here are neither refused nor counted by it
  (``transaction_create(started_by_buyer=True)``); every other check of ``transaction_create``
  applies. Invitations from the website's form, milestone plans and the partner API still count.
* **A buyer holds at most ``INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER`` unpaid link transactions at once**
  (default 3), across every link and seller (``payment_link_unpaid_holds``). Over it, "Buy" is
  refused with a message asking them to pay for one or cancel it first, and the link's page lists
  them. Ordinary invitations the buyer accepted are not link holds and do not count. A transaction
  whose payment came up short waits for payment again and counts again; it does not stop that payment.
* **The buyer releases a hold by cancelling it** (``transaction_cancel`` by the buyer, before any
  payment): a cancelled transaction no longer counts, neither for the link nor for the buyer.
* **The seller sees it**: the link's pages show how many counted transactions are awaiting payment
  and how many are paid (``selectors.payment_link_list_for_seller``).

The buyer's cap holds when the same buyer presses "Buy" on several links at once (several link
locks): after the link, ``payment_link_start`` locks the two people (buyer and seller, in primary-key
order, ``locks.lock_all``) before counting. The buyer's lock serialises their starts; taking both in
one order also means A buying from B's link while B buys from A's queue instead of deadlocking
(accepting writes the buyer's key while the seller's row is locked for the daily count).
"""
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from accounts.models import User
from accounts.validators import canonical_email
from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import check_rupiah_range, format_rupiah
from transactions import services as transaction_services
from transactions.fees import FeeQuote, FeeScheduleError, fee_quote
from transactions.models import Category, EscrowTransaction, Status

from .models import PaymentLink, PaymentLinkUse
from .selectors import payment_link_unpaid_holds

# Transactions that ended without payment: they do not use up the link's limit.
ENDED_UNPAID = (Status.CANCELLED, Status.EXPIRED)
TERMS = ("title", "description", "category", "price", "shipping_cost", "fee_payer", "inspection_days",
         "shipping_days", "accepts_returns", "restocking_fee_basis_points", "is_licence_or_voucher")


class PaymentLinkError(ServiceError):
    """A refused action on a payment link; the message is for the person who tried it."""


def _lock(payment_link, **filters) -> PaymentLink:
    pk = payment_link.pk if isinstance(payment_link, PaymentLink) else payment_link
    return locks.lock(PaymentLink, pk, related=("seller",), **filters)


def _lock_own(payment_link, seller) -> PaymentLink:
    try:
        return _lock(payment_link, seller=seller)
    except PaymentLink.DoesNotExist:
        raise PaymentLinkError(_("This is not one of your payment links."), code="forbidden") from None


def _check_limit(max_transactions) -> None:
    if max_transactions is not None and (type(max_transactions) is not int or not 1 <= max_transactions <= 100_000):
        raise PaymentLinkError(_("The most transactions must be a whole number from 1 to 100000, or empty for no limit."),
                               code="invalid_limit")


def payment_link_quote(payment_link: PaymentLink) -> FeeQuote | None:
    """What a buyer of the link would pay under today's fee schedule (``None``: no fee covers it)."""
    try:
        return fee_quote(price=payment_link.price, shipping_cost=payment_link.shipping_cost,
                         fee_payer=payment_link.fee_payer)
    except FeeScheduleError:
        return None


def payment_link_create(*, seller, title: str, description: str, category: str, price: int, shipping_cost: int,
                        fee_payer: str, inspection_days: int, shipping_days: int, accepts_returns: bool = False,
                        restocking_fee_basis_points: int = 0, is_licence_or_voucher: bool = False,
                        max_transactions: int | None = None) -> PaymentLink:
    """The seller makes a reusable link with the terms of a transaction (the create form's terms,
    without a buyer). The terms are checked here as ``transaction_create`` checks them, so a link
    never starts a transaction that would be refused for its terms."""
    if User.objects.filter(pk=seller.pk, email_verified_at__isnull=True).exists():
        raise PaymentLinkError(_("Verify your email address before you make a payment link: INTRASA starts "
                                 "transactions in your name."), code="email_unverified")
    if not check_rupiah_range(price, minimum=settings.INTRASA_MIN_TRANSACTION_AMOUNT,
                              maximum=settings.INTRASA_MAX_TRANSACTION_AMOUNT) \
            or not check_rupiah_range(shipping_cost, minimum=0, maximum=settings.INTRASA_MAX_TRANSACTION_AMOUNT) \
            or price + shipping_cost > settings.INTRASA_MAX_TRANSACTION_AMOUNT:
        raise PaymentLinkError(_("The price and shipping cost together must be between %(min)s and %(max)s.") % {
            "min": format_rupiah(settings.INTRASA_MIN_TRANSACTION_AMOUNT),
            "max": format_rupiah(settings.INTRASA_MAX_TRANSACTION_AMOUNT)}, code="amount_out_of_range")
    if category not in Category.values:
        raise PaymentLinkError(_("Choose a category."), code="invalid_category")
    if category != Category.PHYSICAL and shipping_cost:
        raise PaymentLinkError(_("Only physical goods have a shipping cost."), code="invalid_shipping")
    if not 1 <= inspection_days <= settings.INTRASA_INSPECTION_DAYS_MAX or not 1 <= shipping_days <= 30:
        raise PaymentLinkError(_("The inspection period and the shipping time are out of range."), code="invalid_days")
    if not 0 <= restocking_fee_basis_points <= 5_000 or (restocking_fee_basis_points and not accepts_returns):
        raise PaymentLinkError(_("The restocking fee must be between 0% and 50%, and only with returns accepted."),
                               code="invalid_restocking_fee")
    if is_licence_or_voucher and category != Category.DIGITAL:
        raise PaymentLinkError(_("Only digital goods can be a licence key or voucher code."), code="invalid_licence")
    _check_limit(max_transactions)
    try:
        fee_quote(price=price, shipping_cost=shipping_cost, fee_payer=fee_payer)
    except FeeScheduleError as exc:
        raise PaymentLinkError(str(exc), code="fee") from exc
    with transaction.atomic():
        link = PaymentLink.objects.create(
            seller=seller, title=" ".join(title.split()), description=description.strip(), category=category,
            price=price, shipping_cost=shipping_cost, fee_payer=fee_payer, inspection_days=inspection_days,
            shipping_days=shipping_days, accepts_returns=accepts_returns,
            restocking_fee_basis_points=restocking_fee_basis_points, is_licence_or_voucher=is_licence_or_voucher,
            max_transactions=max_transactions)
        audit_record(actor=seller, action="payment_link.create", target=link,
                     data={"price": price, "shipping_cost": shipping_cost, "max_transactions": max_transactions})
        return link


def _transition(link: PaymentLink, name: str, *, seller, reason: str = "") -> PaymentLink:
    method = getattr(link, name)
    if not can_proceed(method):
        raise PaymentLinkError(_("This is not possible while the link is “%(status)s”.")
                               % {"status": link.get_status_display()}, code="illegal_transition")
    before = link.status
    method()
    if name == "close":
        link.closed_at = timezone.now()
    link.save()
    audit_record(actor=seller, action=f"payment_link.{name}", target=link, reason=reason,
                 data={"from": before, "to": link.status})
    return link


def payment_link_pause(*, payment_link, seller) -> PaymentLink:
    with transaction.atomic():
        return _transition(_lock_own(payment_link, seller), "pause", seller=seller)


def payment_link_resume(*, payment_link, seller) -> PaymentLink:
    with transaction.atomic():
        return _transition(_lock_own(payment_link, seller), "resume", seller=seller)


def payment_link_close(*, payment_link, seller) -> PaymentLink:
    with transaction.atomic():
        return _transition(_lock_own(payment_link, seller), "close", seller=seller)


def payment_links_anonymise(*, payment_link_ids, text: str) -> int:
    """Replace the title and description of closed links with ``text`` (the retention job and account
    erasure, ``privacy``: the seller's words about what they sold are personal data once the link and
    what it started no longer need them). Only closed links: an open one is the seller's live listing.
    The caller holds the rows' locks or needs none (a closed link never changes again)."""
    return PaymentLink.objects.filter(pk__in=payment_link_ids, status=PaymentLink.Status.CLOSED).update(
        title=text, description=text)


def payment_link_set_limit(*, payment_link, seller, max_transactions: int | None) -> PaymentLink:
    """Change how many transactions the link may start (``None``: no limit). A limit below what
    it already started simply stops new ones; nothing started is touched."""
    _check_limit(max_transactions)
    with transaction.atomic():
        link = _lock_own(payment_link, seller)
        if link.status == PaymentLink.Status.CLOSED:
            raise PaymentLinkError(_("This link is closed."), code="closed")
        before = link.max_transactions
        link.max_transactions = max_transactions
        link.save(update_fields=["max_transactions", "updated_at"])
        audit_record(actor=seller, action="payment_link.set_limit", target=link,
                     data={"from": before, "to": max_transactions})
        return link


def payment_link_transactions_counted(link: PaymentLink) -> int:
    """The transactions the link started that use up its limit (not cancelled, not expired)."""
    return link.uses.exclude(escrow_transaction__status__in=ENDED_UNPAID).count()


def payment_link_refusal(*, payment_link: PaymentLink, user=None) -> tuple[str, str] | None:
    """Why a buyer cannot start a transaction from this link now, as ``(code, message)``; ``None``
    when they can. Read without a lock for the page; ``payment_link_start`` asks again under it."""
    link = payment_link
    if link.status == PaymentLink.Status.CLOSED:
        return "closed", _("The seller has closed this payment link. Ask the seller for a new one.")
    if link.status == PaymentLink.Status.PAUSED:
        return "paused", _("The seller has paused this payment link for now. Try again later, or ask the seller.")
    if link.seller.email_verified_at is None or not link.seller.is_active:
        return "seller_unverified", _("This seller's account is not verified, so the link cannot start a "
                                      "transaction now.")
    if link.max_transactions is not None and payment_link_transactions_counted(link) >= link.max_transactions:
        return "exhausted", _("This link has started as many transactions as the seller allowed. Ask the seller "
                              "whether the item is still available.")
    if user is not None and user.is_authenticated:
        if user.pk == link.seller_id:
            return "seller", _("This is your own payment link: share it with your buyers.")
        if user.email_verified_at is None:
            return "email_unverified", _("Verify your email address first: open the link we emailed to %(email)s, "
                                         "or send yourself a new one from your profile page.") % {"email": user.email}
        if _holds_too_many(link, user):
            return "unpaid_holds", _(
                "You already hold the most unpaid transactions from payment links that one buyer may hold at "
                "once (%(limit)d). Please pay for one or cancel it if you no longer want it, then press Buy "
                "again.") % {"limit": settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER}
    return None


def _holds_too_many(link: PaymentLink, buyer) -> bool:
    """Whether ``buyer`` is at the cap of unpaid link transactions (see the module doc) — unless one of
    them is from this link: pressing "Buy" again then only sends them back to it. One query."""
    held = payment_link_unpaid_holds(buyer=buyer).aggregate(
        all=Count("pk"), here=Count("pk", filter=Q(payment_link_use__payment_link=link)))
    return held["all"] >= settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER and not held["here"]


def payment_link_start(*, payment_link, buyer) -> EscrowTransaction:
    """The buyer starts their own transaction from the link (see the module doc); returns it. A
    buyer with an unpaid transaction from this link gets that one back."""
    buyer = User.objects.get(pk=buyer.pk)  # as committed: an email verified in another tab counts
    with transaction.atomic():
        try:
            link = _lock(payment_link)
        except PaymentLink.DoesNotExist:
            raise PaymentLinkError(_("This payment link does not exist."), code="unknown") from None
        waiting = (EscrowTransaction.objects.filter(payment_link_use__payment_link=link, buyer=buyer,
                                                    status=Status.CREATED).first())
        if waiting is not None:
            return waiting
        # The buyer (their cap of unpaid holds, counted below) and the seller (the checks of
        # transaction_create), in one order: see the module doc.
        locks.lock_all(User.objects.filter(pk__in={buyer.pk, link.seller_id}))
        refusal = payment_link_refusal(payment_link=link, user=buyer)
        if refusal is not None:
            raise PaymentLinkError(refusal[1], code=refusal[0])
        terms = {field: getattr(link, field) for field in TERMS}
        try:
            txn = transaction_services.transaction_create(
                seller=link.seller, buyer_email=canonical_email(buyer.email), send_invitation=False,
                started_by_buyer=True, **terms)
            txn = transaction_services.transaction_accept(escrow_transaction=txn, buyer=buyer)
        except transaction_services.TransactionActionError as exc:
            raise PaymentLinkError(exc.message, code=exc.code) from exc
        PaymentLinkUse.objects.create(payment_link=link, escrow_transaction=txn, buyer=buyer)
        transaction_services.transaction_record_event(
            txn, action="payment_link", actor=buyer, role="buyer", data={"payment_link": link.token})
        audit_record(actor=buyer, action="payment_link.start", target=link, data={"reference": txn.reference})
        return txn
