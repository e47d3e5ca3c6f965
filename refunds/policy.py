"""The refund policy (``shared/seeds/refund-policy.txt``) and the dispute rules of the FAQ, in one place.

Every rule is data (the tables below) or a small pure function over plain values, so it can be read
top to bottom next to the seed and tested one rule at a time. Nothing here touches the database;
``refunds.services`` and ``disputes.services`` apply these rules inside their transactions.

Decisions taken where the seed is silent or does not fit INTRASA, written down here on purpose:

* **Refund route, per method, from Faspay's published documentation** (``REFUND_ROUTES``,
  ``ROUTE_REASONS``, ``FASPAY_REFUND_DOCS``). The seed says money goes back to the original payment
  method; it can only where the provider has a refund for that method. Faspay's documentation
  (docs.faspay.co.id/merchant-integration/api-reference-1/…) offers:

  - **credit card** — ``credit-card-transaction/additional-api-integration/refund-transaction``: a
    Refund Transaction (``transactiontype`` 11) of a captured or sales transaction (``TXN_STATUS`` C
    or S), where the acquiring bank supports it; ``…/transaction-void``: a void (``transactiontype``
    10) the same day before the bank's cut-off. So a card payment can go back to the card.
  - **virtual account, convenience store, QRIS, e-money and paylater** — the Debit API
    (``debit-transaction``): Post Data Transaction, Inquiry Payment Status, Payment Notification and
    ``debit-transaction/cancel-transaction``, which cancels a bill *not paid yet* ("Transaction with
    status paid can't be canceled using this API"); no refund of a paid bill. The SNAP pages
    (``route-payment/snap-direct-debit`` and the SNAP virtual account and QRIS pages,
    ``shared/faspay/REFERENCE.md``) describe creating and paying bills, and no refund either.
  - **bank transfer** into INTRASA's own escrow account: no provider at all; a transfer cannot be
    pulled back by the account that received it.

  INTRASA collects only by bank transfer, virtual account, convenience store and QRIS
  (``METHODS_OFFERED``), so **no refund goes back by the original method**: every refund is paid by
  Faspay SendMe to a bank account or e-wallet **in the buyer's own name**, the seed's substitute
  ("rekening pengganti, hanya atas nama yang sama", section 4) — a bank account only after SendMe's
  account inquiry reports a holder name matching the buyer's full name
  (``disbursements.services.destination_verify``); an e-wallet only once its registered name is
  known to be the buyer's (next point). Every text that tells people where the money goes (the
  policy page, the refund page, the refund receipt and the refund emails) says exactly this, from
  ``refund_routes_table`` (``templates/refunds/_routes.html``), and none promises "the same method".
* **E-wallets: same name, checked by a person.** Faspay publishes no e-money account inquiry
  (``shared/faspay/REFERENCE.md``: ``/emoney/account-inquiry`` "not found for Faspay"), and a top-up
  to a phone number registered to someone else *succeeds*: the money would be gone. So: (1) the
  registered name the buyer types must match the buyer's full name (``disbursements.rules.names_match``),
  else the wallet is refused at once with the reason; (2) even then the refund is **held for staff
  review** (``StaffTask.REVIEW_EWALLET_NAME``, a named Finance member, due within a working day): staff
  check the name the e-wallet shows (the buyer's screenshot, a call) and confirm it with a reason or
  refuse it with the name they saw; only a confirmed wallet is paid (``ewallet_name_confirmed``).
* **Cards, instalments, paylater.** INTRASA has no card channel today. The rule is encoded anyway
  (``REFUND_ROUTES`` / ``refundable_after_issuer_fees``) and tested, so that adding such a channel
  cannot silently refund through SendMe or repay the issuer's admin fee.
* **Who bears the service fee.** When INTRASA returns *everything* it holds (the seller's fault,
  a cancellation, a full refund decided by staff or agreed by the parties) the buyer also gets their
  share of the service fee back: INTRASA keeps no fee on a transaction that did not happen. In a
  **split** the escrow service was used and the dispute handled, so INTRASA keeps its fee, and it
  is taken from the **seller's** part (the seller's part is what is left after the buyer's amount);
  if the seller's part is smaller than the fee, INTRASA waives the rest of the fee
  (``split_allocation``). A split with buyer amount 0 is therefore exactly a release.
* **Return shipping both ways (PP).** The seed refunds shipping both ways when the buyer already
  sent the item back after a mistake of the seller. Whatever part the escrow hold cannot cover
  (``refund_amount``: ``uncovered_amount``), INTRASA pays with the refund — booked as buyer-protection
  cost (``refunds.services.refund_advance_return_shipping``) — and recovers from the seller: the
  buyer is paid, not told to wait for a settlement between others.
* **No dead ends** (``StaffTask``, below): every open request has one next step held by someone —
  the buyer, the bank inside its window, or a named Finance member with a due date; stalled steps
  pass to staff. Documents follow the case (``goods_come_back``): no return documents when nothing
  was shipped or the buyer keeps the goods; INTRASA issues the RMA number; staff waive a document
  with a reason the buyer sees. The transaction reads "refund in progress" until the ledger's buyer
  refund payable is zero, and the refund receipt lists each transfer that arrived.
* **Unmatched transfers** (``unmatched_transfer_case``): a bank-statement credit no bill claims is
  booked to a suspense account on import; finance match it to its payer with a reason, and it is
  refunded like any other money owed back.
* **The inspection clock** starts at delivery, not at shipping: the buyer marking the goods
  received, the courier's delivery scan, or the courier's delivery estimate; one extension of 3
  working days with a reason. Those rules sit below this app, in ``transactions.delivery``, because
  the transaction's own deadline depends on them.
* **Non-defect returns and exclusions**: see the sections below; the seller states on each
  transaction whether returns are accepted and the restocking fee (none by default) — INTRASA
  invents no fee; only licences and voucher codes (so marked by the seller) are excluded once
  delivered, and never when the seller agrees to refund.
* **Returns** (``ReturnShipment``): RMA number at once, the seller's return address within
  ``RETURN_ADDRESS_WORKING_DAYS``, the buyer's courier and receipt within ``RETURN_SHIP_WORKING_DAYS``,
  the seller's inspection within the seed's 2×24 working hours of the arrival (accepted, or rejected
  with a reason for staff to decide); late steps become named staff tasks (section "Returns" below).
* **Short shipment**: the missing part's value, stated by the buyer with evidence, after the seller
  agrees or staff decide (at most the value claimed); the buyer keeps what arrived.
* **Failed but charged**: refunded only once Finance book the charge from INTRASA's bank statement
  or Faspay's report, with a reason and the evidence (section "Failed but charged" below).
* **Promo codes.** INTRASA issues no vouchers today; a price agreed after a discount is simply the
  transaction price ("nilai refund menyesuaikan harga setelah diskon"). The voucher rules are encoded
  (``promo_code_outcome``) for when vouchers exist.
"""
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from django.db import models
from django.utils.translation import gettext_lazy as _

# --- 1) When refunds apply -----------------------------------------------------------------------


class RefundCase(models.TextChoices):
    """Why money goes back to the buyer (seed section 1, plus the FAQ's "not shipped" claim)."""

    CANCELLATION = "cancellation", _("Order cancelled (out of stock or changed delivery estimate not accepted)")
    PREORDER_LATE = "preorder_late", _("Pre-order later than its estimate, buyer chose to cancel")
    NOT_SHIPPED = "not_shipped", _("Seller did not ship by the deadline")
    NOT_RECEIVED = "not_received", _("Goods not received")
    RETURN_SELLER_FAULT = "return_seller_fault", _(
        "Approved return: dead on arrival, defective, wrong item, short shipment or not as described")
    RETURN_NON_DEFECT = "return_non_defect", _("Approved non-defect return")
    DOUBLE_PAYMENT = "double_payment", _("Double or repeated payment")
    EXCESS_PAYMENT = "excess_payment", _("Paid more than the bill")
    FAILED_PAYMENT = "failed_payment", _("Failed payment that was charged")
    SETTLEMENT = "settlement", _("Agreed or decided partial refund (split)")
    SHORT_SHIPMENT = "short_shipment", _("Short shipment: refund of the missing part")


# Cases caused by the seller: item value plus shipping (both ways if the item was sent back).
SELLER_FAULT_CASES = frozenset({
    RefundCase.CANCELLATION, RefundCase.PREORDER_LATE, RefundCase.NOT_SHIPPED, RefundCase.NOT_RECEIVED,
    RefundCase.RETURN_SELLER_FAULT,
})
# Money that never entered escrow (payments owed it back straight away).
PAYMENT_CASES = frozenset({RefundCase.DOUBLE_PAYMENT, RefundCase.EXCESS_PAYMENT, RefundCase.FAILED_PAYMENT})
RETURN_CASES = frozenset({RefundCase.RETURN_SELLER_FAULT, RefundCase.RETURN_NON_DEFECT})

# payments.services._owe_back's "why" → the refund case it starts.
OWED_BACK_CASES = {
    "double": RefundCase.DOUBLE_PAYMENT,
    "excess": RefundCase.EXCESS_PAYMENT,
    # A payment smaller than the bill cannot fund the transaction: it failed, but was charged.
    "short": RefundCase.FAILED_PAYMENT,
    # Paid after the transaction closed unpaid (expired or cancelled): it cannot fund anything.
    "late": RefundCase.FAILED_PAYMENT,
}



def unmatched_transfer_case(*, transaction_funded: bool) -> str:
    """A bank transfer no bill claimed, matched by staff to its payer's transaction (it sat in the
    suspense account meanwhile). Decision: if the transaction was already paid, it paid twice
    (double payment); otherwise it was a transfer that could not fund anything (a wrong amount, a
    transaction that closed) — charged without effect, the "failed but charged" case."""
    return RefundCase.DOUBLE_PAYMENT if transaction_funded else RefundCase.FAILED_PAYMENT


# Cases a buyer may start from the refund page; every other case starts from a dispute (which
# freezes the money first) or from the system (payments, the seller's cancellation).
BUYER_REQUESTABLE_CASES = (RefundCase.DOUBLE_PAYMENT, RefundCase.FAILED_PAYMENT)


# --- Disputes: reasons, and the refund case each one leads to -------------------------------------


class DisputeReason(models.TextChoices):
    NOT_RECEIVED = "not_received", _("Not received")
    NOT_SHIPPED = "not_shipped", _("The seller did not ship by the deadline")
    DEFECTIVE = "defective", _("Defective / dead on arrival")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    SHORT_SHIPMENT = "short_shipment", _("Short shipment (items missing)")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    CANCELLATION = "cancellation", _("Cancellation (out of stock or changed delivery estimate I do not accept)")
    PREORDER_LATE = "preorder_late", _("Pre-order later than its estimate")
    RETURN_NO_DEFECT = "return_no_defect", _("Return without a defect (seller's return policy)")


DISPUTE_REFUND_CASE: dict[str, str] = {
    DisputeReason.NOT_RECEIVED: RefundCase.NOT_RECEIVED,
    DisputeReason.NOT_SHIPPED: RefundCase.NOT_SHIPPED,
    DisputeReason.DEFECTIVE: RefundCase.RETURN_SELLER_FAULT,
    DisputeReason.WRONG_ITEM: RefundCase.RETURN_SELLER_FAULT,
    DisputeReason.SHORT_SHIPMENT: RefundCase.RETURN_SELLER_FAULT,
    DisputeReason.NOT_AS_DESCRIBED: RefundCase.RETURN_SELLER_FAULT,
    DisputeReason.CANCELLATION: RefundCase.CANCELLATION,
    DisputeReason.PREORDER_LATE: RefundCase.PREORDER_LATE,
    DisputeReason.RETURN_NO_DEFECT: RefundCase.RETURN_NON_DEFECT,
}
# Reasons that deny the delivery itself (so the digital-goods exclusion cannot apply).
UNDELIVERED_REASONS = frozenset({DisputeReason.NOT_RECEIVED, DisputeReason.NOT_SHIPPED})
# FAQ: a "not shipped" claim is verified by INTRASA staff, so it goes to staff at once.
STAFF_VERIFIED_REASONS = frozenset({DisputeReason.NOT_SHIPPED})

# Settlement offers and the staff queue (working days / hours, holiday-aware, WIB).
OFFER_REPLY_WORKING_DAYS = 2
SELLER_FIRST_REPLY_WORKING_DAYS = 2
STAFF_DECISION_WORKING_HOURS = 2 * 24


class ReturnShippingPayer(models.TextChoices):
    NONE = "none", _("No return needed")
    BUYER = "buyer", _("Buyer pays return shipping")
    SELLER = "seller", _("Seller pays return shipping")


def dispute_refund_case(reason: str, *, split: bool = False) -> str:
    return RefundCase.SETTLEMENT if split else DISPUTE_REFUND_CASE[reason]


def not_shipped_claim_allowed(*, shipped: bool, shipping_deadline, now) -> bool:
    """FAQ: the buyer may claim when the seller did not ship as agreed, i.e. by the deadline."""
    return not shipped and shipping_deadline is not None and shipping_deadline < now


# --- 2) Amounts ----------------------------------------------------------------------------------

# Restocking fee of a non-defect return ("dapat dikenakan restocking fee sesuai kebijakan retur"): the
# seller states it per transaction (``EscrowTransaction.restocking_fee_basis_points``, none by
# default, at most 50%); INTRASA never invents one.
MAX_RESTOCKING_FEE_BASIS_POINTS = 5_000
# A promo code is never paid out as money.
PROMO_CODE_PAID_AS_MONEY = False


@dataclass(frozen=True)
class RefundFigure:
    amount: int  # what INTRASA pays back now
    entitlement: int  # what the policy grants
    restocking_fee: int = 0

    @property
    def uncovered_amount(self) -> int:
        return self.entitlement - self.amount


def restocking_fee(item_value: int, basis_points: int) -> int:
    """The seller's stated fee on the item value, rounded to the nearest Rupiah."""
    if not 0 <= basis_points <= MAX_RESTOCKING_FEE_BASIS_POINTS:
        raise ValueError("a restocking fee is between 0 and 50% of the item value")
    return (item_value * basis_points + 5_000) // 10_000


def refund_amount(case: str, *, price: int, shipping_cost: int, buyer_fee: int, held: int,
                  return_shipping: int = 0, item_sent_back: bool = False,
                  restocking_fee_basis_points: int = 0) -> RefundFigure:
    """How much the buyer gets back for ``case``.

    ``price`` is what the buyer agreed to pay for the item, i.e. the price after any discount or
    bundle (seed: "nilai refund menyesuaikan harga setelah diskon"). ``held`` caps what INTRASA can
    pay (module docstring).
    """
    if case in SELLER_FAULT_CASES:
        # Item value + shipping (+ return shipping, PP), and the buyer's share of the fee: INTRASA
        # keeps no fee when the seller did not deliver what was agreed.
        entitlement = price + shipping_cost + buyer_fee + (return_shipping if item_sent_back else 0)
        return RefundFigure(min(entitlement, held), entitlement)
    if case == RefundCase.RETURN_NON_DEFECT:
        fee = restocking_fee(price, restocking_fee_basis_points)
        entitlement = price - fee  # shipping is not refunded
        return RefundFigure(min(entitlement, held), entitlement, restocking_fee=fee)
    raise ValueError(f"the amount of a {case} refund is the amount owed back, not computed")


@dataclass(frozen=True)
class SplitAllocation:
    buyer: int
    seller: int
    fee: int


def split_allocation(*, held: int, buyer_amount: int, fee_amount: int) -> SplitAllocation:
    """Divide the held money in a split (module docstring: the fee comes out of the seller's part)."""
    if not 0 <= buyer_amount < held:
        raise ValueError("a split gives the buyer at least 0 and less than everything held")
    rest = held - buyer_amount
    fee = min(fee_amount, rest)
    return SplitAllocation(buyer=buyer_amount, seller=rest - fee, fee=fee)


def promo_code_outcome(*, whole_order_cancelled: bool, code_still_valid: bool) -> str:
    """A voucher is never converted to money; it is re-issued only when the whole order is
    cancelled and the code is still valid. Returns ``"reissue"`` or ``"forfeit"``."""
    return "reissue" if whole_order_cancelled and code_still_valid else "forfeit"


# --- 3) Time limits ------------------------------------------------------------------------------

APPROVAL_WORKING_HOURS = 2 * 24  # verification and approval after the documents are complete


class PaymentFamily(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    VIRTUAL_ACCOUNT = "va", _("Virtual account")
    RETAIL = "retail", _("Convenience store")
    QRIS = "qris", _("QRIS")
    EWALLET = "ewallet", _("E-wallet")
    CARD = "card", _("Credit card")
    INSTALMENT = "instalment", _("Instalment")
    PAYLATER = "paylater", _("Paylater")


# Working days for the money to arrive after approval, per original payment method.
TRANSFER_WORKING_DAYS: dict[str, tuple[int, int]] = {
    PaymentFamily.BANK_TRANSFER: (3, 7),
    PaymentFamily.RETAIL: (3, 7),
    PaymentFamily.VIRTUAL_ACCOUNT: (1, 3),
    PaymentFamily.QRIS: (1, 3),
    PaymentFamily.EWALLET: (1, 3),
    PaymentFamily.CARD: (7, 14),
    PaymentFamily.INSTALMENT: (7, 14),
    PaymentFamily.PAYLATER: (7, 14),
}


def transfer_window(family: str) -> tuple[int, int]:
    return TRANSFER_WORKING_DAYS.get(family, TRANSFER_WORKING_DAYS[PaymentFamily.BANK_TRANSFER])


# When the transfer window starts. Decision, from the seed: the transfer (section 3, "Proses transfer ke
# metode awal: 3–7 hari kerja") follows the approval ("setelah ... disetujui & diverifikasi"), and INTRASA pays
# every refund to a substitute account in the buyer's own name (section 4, "kami akan meminta rekening
# pengganti"; module docstring): no transfer can start before that account is known. So the window counts from
# the **later** of the approval and the moment the money can set off to an account in the buyer's own name:
#
# * once it has set off, that moment (``Payout.sending_since``: the payout got its account — from the refund
#   page, the profile page once the bank's inquiry checked it, or Finance's e-wallet check — or a failed
#   transfer was sent again, e.g. to the new account the buyer named after a transfer to a wrong one failed);
# * until then, the moment the buyer named, or corrected, the refund account (``RefundRequest.account_named_at``).
#
# A refund approved on day D whose account is named on D+3 reaches the buyer by D+3 plus the method's window,
# in working days. Every place that counts the window — the refund-by date (``refund_reaches_buyer_by``), the
# window shown on the refund page, the approval message and the staff chase of a late transfer — counts it
# from this one moment (``refunds.selectors.refund_transfer_starts_at`` reads it from the rows).

def transfer_starts_at(*, approved_at: dt.datetime, account_named_at: dt.datetime | None = None,
                       sent_at: dt.datetime | None = None) -> dt.datetime:
    """The moment the method's transfer window starts (section above). ``sent_at``, once the money set off,
    already follows the account it went to: an account named after that does not move a transfer under way."""
    ready = sent_at if sent_at is not None else account_named_at
    return approved_at if ready is None else max(approved_at, ready)


def transfer_arrives_between(start: dt.datetime, family: str, calendar) -> tuple[dt.datetime, dt.datetime]:
    """The earliest and the latest the transfer reaches the buyer, for a window that started at ``start``."""
    earliest, latest = transfer_window(family)
    return calendar.add_working_days(start, earliest), calendar.add_working_days(start, latest)


# --- 4) Method -----------------------------------------------------------------------------------


class Route(models.TextChoices):
    SENDME_OWN_ACCOUNT = "sendme", _("SendMe transfer to the buyer's own bank account or e-wallet")
    ISSUER = "issuer", _("Through the card issuer or platform")


REFUND_ROUTES: dict[str, str] = {
    PaymentFamily.BANK_TRANSFER: Route.SENDME_OWN_ACCOUNT,
    PaymentFamily.VIRTUAL_ACCOUNT: Route.SENDME_OWN_ACCOUNT,
    PaymentFamily.RETAIL: Route.SENDME_OWN_ACCOUNT,
    PaymentFamily.QRIS: Route.SENDME_OWN_ACCOUNT,
    PaymentFamily.EWALLET: Route.SENDME_OWN_ACCOUNT,
    PaymentFamily.CARD: Route.ISSUER,
    PaymentFamily.INSTALMENT: Route.ISSUER,
    PaymentFamily.PAYLATER: Route.ISSUER,
}
# Bank or platform admin fees (and third-party instalment fees) are never refunded (sections 2, 6).
ISSUER_FEES_REFUNDABLE = False


# Where Faspay documents what it offers for each method (module docstring): the page under
# https://docs.faspay.co.id/merchant-integration/api-reference-1/ and, in short, what it offers.
FASPAY_DOCS = "https://docs.faspay.co.id/merchant-integration/api-reference-1/"
_DEBIT_API = ("debit-transaction/cancel-transaction",
              "Debit API: post, inquiry, notification, and cancel of an unpaid bill only; no refund of a paid bill")
FASPAY_REFUND_DOCS: dict[str, tuple[str, str]] = {
    PaymentFamily.BANK_TRANSFER: ("", "no provider: a transfer into INTRASA's own escrow account"),
    PaymentFamily.VIRTUAL_ACCOUNT: _DEBIT_API,
    PaymentFamily.RETAIL: _DEBIT_API,
    PaymentFamily.QRIS: _DEBIT_API,
    PaymentFamily.EWALLET: _DEBIT_API,
    PaymentFamily.PAYLATER: _DEBIT_API,
    PaymentFamily.CARD: ("credit-card-transaction/additional-api-integration/refund-transaction",
                         "Refund Transaction (transactiontype 11) of a captured or sales card payment; void "
                         "(transaction-void, transactiontype 10) the same day before the bank's cut-off"),
    PaymentFamily.INSTALMENT: ("credit-card-transaction/additional-api-integration/refund-transaction",
                               "card instalments are card payments: Refund Transaction through the acquiring bank"),
}

# Why each method is refunded the way it is, as people read it (the policy page, the refund page and
# the refund receipt show these next to the method): the facts of ``FASPAY_REFUND_DOCS``.
ROUTE_REASONS = {
    PaymentFamily.BANK_TRANSFER: _("You transferred into INTRASA's own bank account: no payment provider is "
                                   "involved, and a bank transfer cannot be pulled back by the account that "
                                   "received it."),
    PaymentFamily.VIRTUAL_ACCOUNT: _("Faspay's documentation for virtual accounts offers payment, status inquiry "
                                     "and cancelling an unpaid bill, but no refund of a paid one."),
    PaymentFamily.RETAIL: _("Faspay's documentation for convenience-store payments offers payment, status inquiry "
                            "and cancelling an unpaid bill, but no refund of a paid one."),
    PaymentFamily.QRIS: _("Faspay's documentation for QRIS offers payment, status inquiry and cancelling an unpaid "
                          "bill, but no refund of a paid one."),
    PaymentFamily.EWALLET: _("Faspay's documentation for e-wallet payments offers payment and status inquiry, but "
                             "no refund of a paid bill."),
    PaymentFamily.CARD: _("Faspay refunds a captured card payment through the acquiring bank (Refund "
                          "Transaction)."),
    PaymentFamily.INSTALMENT: _("Card instalments are refunded through the acquiring bank, following the "
                                "issuer's procedure."),
    PaymentFamily.PAYLATER: _("Faspay has no refund for paylater: the refund follows the platform's procedure."),
}
# The methods INTRASA collects with today (payments.channels); the others are encoded for later.
METHODS_OFFERED = (PaymentFamily.BANK_TRANSFER, PaymentFamily.VIRTUAL_ACCOUNT, PaymentFamily.RETAIL,
                   PaymentFamily.QRIS)


def refund_routes_table() -> list[tuple[str, str, str, tuple[int, int]]]:
    """(method, route, why, working-day window) for each method INTRASA offers: the policy page, the
    refund page and the refund receipt show exactly this (``templates/refunds/_routes.html``), so
    none promises "the same method" where that is not true."""
    return [(str(PaymentFamily(f).label), str(Route(REFUND_ROUTES[f]).label), str(ROUTE_REASONS[f]), transfer_window(f))
            for f in METHODS_OFFERED]


def refund_route(family: str) -> str:
    return REFUND_ROUTES.get(family, Route.SENDME_OWN_ACCOUNT)


def refundable_after_issuer_fees(amount: int, *, family: str, issuer_admin_fee: int = 0) -> int:
    """Issuer-routed refunds follow the issuer's mechanism; their admin fee stays with the issuer."""
    if refund_route(family) == Route.ISSUER and not ISSUER_FEES_REFUNDABLE:
        return max(amount - issuer_admin_fee, 0)
    return amount


def ewallet_name_confirmed(*, kind: str, verification: str) -> bool:
    """A bank account is checked by the bank's account inquiry; an e-wallet's registered name only
    by INTRASA staff (module docstring): ``approved`` is their confirmation."""
    return kind != "ewallet" or verification == "approved"


def substitute_account_acceptable(*, owner_id: int, buyer_id: int, can_receive_payouts: bool,
                                  name_confirmed: bool = True) -> bool:
    """A substitute account must belong to the buyer and be verified in the buyer's name (the
    account inquiry compared its holder name with the buyer's full name, or staff confirmed an
    e-wallet's registered name: ``name_confirmed``)."""
    return owner_id == buyer_id and can_receive_payouts and name_confirmed


# --- 5) Documents --------------------------------------------------------------------------------


class Document(models.TextChoices):
    ORDER_NUMBER = "order_number", _("Order / reference number")
    PROOF_OF_PAYMENT = "proof_of_payment", _("Proof of payment")
    RMA_NUMBER = "rma_number", _("RMA (return authorisation) number")
    RETURN_RECEIPT = "return_receipt", _("Return courier receipt")
    INSPECTION_RESULT = "inspection_result", _("Inspection result")
    BANK_STATEMENT = "bank_statement", _("Bank or e-wallet statement / debit proof")


BASE_DOCUMENTS: tuple[str, ...] = (Document.ORDER_NUMBER, Document.PROOF_OF_PAYMENT)
RETURN_DOCUMENTS = (Document.RMA_NUMBER, Document.RETURN_RECEIPT, Document.INSPECTION_RESULT)
# Documents that are typed (a number) rather than uploaded.
TEXT_DOCUMENTS = frozenset({Document.ORDER_NUMBER, Document.RMA_NUMBER})
# Documents only INTRASA records: the RMA number is issued by INTRASA when a return is authorised
# (a buyer cannot "have" one), and the inspection is "ours" (seed section 5: "hasil inspeksi kami").
STAFF_DOCUMENTS = frozenset({Document.RMA_NUMBER, Document.INSPECTION_RESULT})


def goods_come_back(case: str, *, shipped: bool, return_agreed: bool = True) -> bool:
    """Whether the refund waits for the goods to come back to the seller (and so needs the return
    documents of seed section 5).

    Decision: only a *return* case whose goods were actually shipped. A buyer whose seller never
    shipped, a cancellation, a pre-order cancelled, goods that never arrived, a split or a payment
    problem has nothing to send back, so is never asked for an RMA, a return receipt or an
    inspection result. A dispute settled (or decided) with "no return needed"
    (``ReturnShippingPayer.NONE``) also lets the buyer keep the goods: ``return_agreed=False``.
    """
    return case in RETURN_CASES and shipped and return_agreed


def required_documents(case: str, *, goods_return: bool | None = None) -> tuple[str, ...]:
    """The documents a request of ``case`` needs (seed section 5). ``goods_return`` says whether
    the goods come back (``goods_come_back``); when unknown, a return case is assumed to need them."""
    documents = BASE_DOCUMENTS
    if case in RETURN_CASES and (goods_return is None or goods_return):
        documents += RETURN_DOCUMENTS
    if case in PAYMENT_CASES:
        documents += (Document.BANK_STATEMENT,)
    return documents


def missing_documents(case: str, present, *, goods_return: bool | None = None) -> list[str]:
    """Required documents not yet present; a document staff waived (with a reason) is present."""
    present = set(present)
    return [doc for doc in required_documents(case, goods_return=goods_return) if doc not in present]


def who_supplies(document: str) -> str:
    """``"intrasa"`` for the documents INTRASA records itself, ``"buyer"`` for the rest: the buyer's
    page asks the buyer only for the buyer's."""
    return "intrasa" if document in STAFF_DOCUMENTS else "buyer"


def rma_number(reference: str, request_pk: int) -> str:
    """The return authorisation number INTRASA issues when a return is authorised."""
    return f"RMA-{reference}-{request_pk}"


# --- No dead ends: the next step of every open request, and who holds it -------------------------
#
# Decision: every request that owes a buyer money has, at any moment, exactly one next step held by
# someone: the buyer (add a document, add or choose an account), the bank (the transfer is on its
# way, inside the policy's window) or a *named* INTRASA staff member with a due date. When the buyer's
# or the bank's step stalls past the limits below, the step passes to staff, so no request can wait
# forever for someone who will never act. Staff tasks go to a member of the Finance role (the role
# that verifies and approves refunds), the one with the fewest open tasks; the buyer's page shows
# that person's first name and the date.

class StaffTask(models.TextChoices):
    VERIFY_AND_APPROVE = "verify", _("Verify the documents and approve or reject the refund")
    RECORD_INSPECTION = "inspection", _("Record the inspection result of the returned goods")
    HELP_WITH_DOCUMENTS = "documents", _("Contact the buyer about the missing documents, waive or decide")
    GET_REFUND_ACCOUNT = "account", _("Contact the buyer for an account in their own name")
    REVIEW_EWALLET_NAME = "ewallet", _("Check that the e-wallet is registered in the buyer's name")
    FIX_FAILED_TRANSFER = "failed", _("Resolve the failed transfer and send the refund again")
    CHASE_LATE_TRANSFER = "late", _("Chase the transfer that has not arrived in its window")
    # Returns (``ReturnStep`` below): a party's step that passed its deadline.
    RETURN_ADDRESS = "address", _("The seller gave no return address in time: get it from the seller or decide")
    RETURN_SHIPMENT = "shipback", _("The buyer did not ship the goods back in time: contact the buyer or decide")
    RETURN_ARRIVAL = "arrival", _("The returned goods are not reported back: check with the courier and the seller")
    DECIDE_INSPECTION = "rejected", _("The seller rejected the returned goods: review the evidence and decide")
    BOOK_CHARGE = "charge", _("Find the charge in the bank statement or the provider's report and book it")
    # The goods' way back to the buyer after an upheld rejection (``RESEND_*`` below).
    RESEND_ADDRESS = "resendaddr", _("The buyer gave no address for the rejected goods in time: contact the buyer")
    RESEND_SHIPMENT = "resendship", _("The seller did not send the rejected goods back to the buyer in time: "
                                      "contact the seller")
    RESEND_ARRIVAL = "resendlate", _("The goods sent back to the buyer are not reported delivered: check with the "
                                     "courier and both parties")


# The buyer has this long to add their documents before staff step in.
DOCUMENTS_STALL_WORKING_DAYS = 5
# The buyer has this long after approval to name an account in their own name.
ACCOUNT_STALL_WORKING_DAYS = 2
# What staff have for a task taken over from a stalled step, a failed transfer or an e-wallet check.
STAFF_TASK_WORKING_HOURS = 8
# Verifying a returned item: the policy's 2×24 working hours to verify.
INSPECTION_WORKING_HOURS = 2 * 24


# --- Returns: RMA, address, shipping back, inspection ---------------------------------------------
#
# Decision (the seed names the documents — "nomor RMA, resi pengembalian, dan hasil inspeksi kami" —
# and the 2×24 working hours to verify; the rest is written here): when a return is authorised (a
# seller-fault return decided or agreed with the goods coming back, or a non-defect return accepted),
# INTRASA issues the RMA number at once and the return runs through these steps, each with a holder
# and a deadline on the working-day calendar (``workdays``: weekends, holidays and cuti bersama do
# not count):
#
# 1. the seller gives the address the goods go back to, within ``RETURN_ADDRESS_WORKING_DAYS``;
# 2. the buyer ships the goods back and enters the courier and receipt number within
#    ``RETURN_SHIP_WORKING_DAYS`` of the address (a buyer who already sent them may enter the receipt
#    before the address is given);
# 3. the goods travel back: the seller marks them arrived; ``RETURN_TRANSIT_WORKING_DAYS`` after the
#    buyer shipped, INTRASA checks with the courier if nobody did;
# 4. the seller inspects within ``INSPECTION_WORKING_HOURS`` (the seed's 2×24 working hours to verify)
#    of the arrival and records the result: accepted (the refund goes to INTRASA's approval, within
#    the seed's 2×24 working hours of complete documents, then the method's transfer window) or
#    rejected with a reason (INTRASA staff decide: they overrule it, or reject the refund).
#
# A step past its deadline is never decided by the clock against someone: it becomes a dated task
# of a named INTRASA staff member (``StaffTask.RETURN_*``), raised by the periodic task scan.

RETURN_ADDRESS_WORKING_DAYS = 2
RETURN_SHIP_WORKING_DAYS = 3
RETURN_TRANSIT_WORKING_DAYS = 7


# --- The refund-by date: the latest a refund reaches the buyer, from where it stands ---------------
#
# Decision: every place that promises when a refund arrives (Cek Transaksi and its JSON, the refund page,
# the refund emails, the refund receipt) shows one date, ``refund_reaches_buyer_by``, computed here from a
# ``RefundClock``: the step the refund is in now, when that step started, the steps still to come and the
# buyer's payment method. Each step counts its own window from the policy (working days or working hours
# on the ``workdays`` calendar, WIB), so the date is the true upper bound *for the case the refund is in*:
# a return waiting for the goods adds the remaining return windows, the inspection, INTRASA's approval and
# the transfer; an approved refund queued for transfer only the method's transfer window; an e-wallet not
# confirmed yet Finance's check (``STAFF_TASK_WORKING_HOURS``) before the transfer. A step held by a party
# (the buyer, the seller, the bank) that is already past its deadline passes to a named staff member
# (``StaffTask``) with ``STAFF_TASK_WORKING_HOURS`` more, as ``refunds.services.refund_next_step`` says, and
# the date follows: the promise moves only when the case moves.


class RefundStep(StrEnum):
    """A step of a refund that takes time, in the order a refund may go through them (internal names:
    people read the date, and the step's own text on the refund page, ``refunds.services.NextStep``)."""

    RETURN_ADDRESS = "address"  # the seller gives the return address
    RETURN_SHIPMENT = "ship_back"  # the buyer ships the goods back
    RETURN_TRANSIT = "transit"  # the goods travel back to the seller
    INSPECTION = "inspection"  # the seller inspects them
    INSPECTION_DECISION = "decision"  # INTRASA staff decide on a rejected inspection
    DOCUMENTS = "documents"  # the buyer adds the missing documents
    RECORD_DOCUMENTS = "records"  # INTRASA records the documents only it can
    APPROVAL = "approval"  # Finance verify and approve
    ACCOUNT = "account"  # the buyer names an account in their own name
    EWALLET_CHECK = "ewallet"  # Finance confirm an e-wallet's registered name
    FAILED_TRANSFER = "failed"  # Finance resolve a failed transfer
    TRANSFER = "transfer"  # the transfer reaches the buyer (the method's window)


# (working days, working hours) of each step; the transfer's is the method's (``transfer_window``).
REFUND_STEP_WINDOWS: dict[str, tuple[int, int]] = {
    RefundStep.RETURN_ADDRESS: (RETURN_ADDRESS_WORKING_DAYS, 0),
    RefundStep.RETURN_SHIPMENT: (RETURN_SHIP_WORKING_DAYS, 0),
    RefundStep.RETURN_TRANSIT: (RETURN_TRANSIT_WORKING_DAYS, 0),
    RefundStep.INSPECTION: (0, INSPECTION_WORKING_HOURS),
    RefundStep.INSPECTION_DECISION: (0, STAFF_TASK_WORKING_HOURS),
    RefundStep.DOCUMENTS: (DOCUMENTS_STALL_WORKING_DAYS, 0),
    RefundStep.RECORD_DOCUMENTS: (0, INSPECTION_WORKING_HOURS),
    RefundStep.APPROVAL: (0, APPROVAL_WORKING_HOURS),
    RefundStep.ACCOUNT: (ACCOUNT_STALL_WORKING_DAYS, 0),
    RefundStep.EWALLET_CHECK: (0, STAFF_TASK_WORKING_HOURS),
    RefundStep.FAILED_TRANSFER: (0, STAFF_TASK_WORKING_HOURS),
}
# Steps INTRASA's own staff hold: late, they stay theirs (the overdue digest chases them); every other
# step passes to staff once late.
STAFF_HELD_STEPS = frozenset({RefundStep.INSPECTION_DECISION, RefundStep.RECORD_DOCUMENTS, RefundStep.APPROVAL,
                              RefundStep.EWALLET_CHECK, RefundStep.FAILED_TRANSFER})
# The steps after approval, by what INTRASA knows of the buyer's refund account: a bank account (checked by
# the bank's inquiry when chosen) or a confirmed e-wallet is paid at once; an e-wallet nobody confirmed
# waits for Finance; no account at all waits for the buyer, who may then name an e-wallet.
PAYOUT_STEPS: dict[str, tuple[str, ...]] = {
    "ready": (RefundStep.TRANSFER,),
    "ewallet": (RefundStep.EWALLET_CHECK, RefundStep.TRANSFER),
    "none": (RefundStep.ACCOUNT, RefundStep.EWALLET_CHECK, RefundStep.TRANSFER),
}


@dataclass(frozen=True)
class RefundClock:
    """Where one refund stands, in plain values: ``steps[0]`` is the step it is in, started at ``since``;
    the rest are still to come; ``family`` is the buyer's payment method (the transfer window). A clock whose
    step is the transfer starts at ``transfer_starts_at``, never at the approval alone."""

    since: dt.datetime
    steps: tuple[str, ...]
    family: str


def _step_end(step: str, start: dt.datetime, family: str, calendar) -> dt.datetime:
    if step == RefundStep.TRANSFER:
        return transfer_arrives_between(start, family, calendar)[1]
    days, hours = REFUND_STEP_WINDOWS[step]
    return calendar.add_working_hours(calendar.add_working_days(start, days), hours)


def refund_reaches_buyer_by(clock: RefundClock, *, now: dt.datetime, calendar) -> dt.datetime:
    """The latest the refund reaches the buyer (section above): each step's window after the one before,
    and the current step, if a party let it pass its deadline, handed to staff for their window."""
    at = clock.since
    for index, step in enumerate(clock.steps):
        at = _step_end(step, at, clock.family, calendar)
        if index == 0 and now >= at and step not in STAFF_HELD_STEPS:
            at = calendar.add_working_hours(at, STAFF_TASK_WORKING_HOURS)
    return at


# --- Returned goods after an upheld rejection: the way back to the buyer ----------------------------
#
# Decision (the seed is silent): when INTRASA staff uphold the seller's rejection of returned goods, the
# money goes to the seller (section "Rejections" below) but the goods are still the buyer's. Leaving
# them at the seller would leave the buyer with neither, so the return continues on the same
# ``ReturnShipment`` (its ``RESEND_*`` states) with its own steps and deadlines on the working-day
# calendar:
#
# 1. the buyer gives the address the goods go to, within ``RESEND_ADDRESS_WORKING_DAYS`` of the
#    decision (INTRASA has no buyer address on file: the original one may no longer be right);
# 2. the seller hands them to a courier and enters the courier and receipt number within
#    ``RESEND_SHIP_WORKING_DAYS`` of that address (the goods are at hand and already inspected: a
#    parcel to post, as quick as the seller's own return-address step);
# 3. the courier's delivery scan (the tracking job) marks them back with the buyer, or the buyer
#    does (also when they collected them in person); ``RETURN_TRANSIT_WORKING_DAYS`` after the
#    seller sent them, INTRASA checks with the courier if nobody did.
#
# A late step becomes a dated task of a named Finance member (``StaffTask.RESEND_*``), like every
# other return step; the clock never decides against anyone.
#
# **Who pays that shipping.** The buyer, by default: the buyer lost the inspection, and INTRASA's
# staff found the goods that came back were not what the seller sent, so the cost of the second trip
# follows the party whose claim failed, as return shipping does in a non-defect return. The seller
# sends the parcel with the shipping paid by the recipient on delivery ("ongkir dibayar penerima"), so
# no money passes through INTRASA and the seller advances nothing. Staff who uphold the rejection may
# decide that the seller pays instead (e.g. the seller's own packing or delay is in question); the
# decision is stored on the shipment (``resend_shipping_payer``) and shown to both parties.

RESEND_ADDRESS_WORKING_DAYS = 3
RESEND_SHIP_WORKING_DAYS = 2
RESEND_SHIPPING_PAYER_DEFAULT = "buyer"


# --- Short shipment ----------------------------------------------------------------------------------
#
# Decision: a short shipment (part of the order missing) is a seller's fault, but the buyer keeps
# what arrived, so nothing is sent back and the refund is the value of the missing part and nothing
# more (seed: "kurang kirim"). The buyer states, when opening the dispute, what is missing and its
# value (at most the item price; "nothing arrived" is the "not received" claim), with evidence. The
# seller agrees to that value, or INTRASA staff decide (at most the value claimed). The money is divided
# like a split: the missing part to the buyer, the rest to the seller (INTRASA's fee from the seller's
# part).


def short_shipment_value_valid(*, missing_value: int, price: int) -> bool:
    return 0 < missing_value < price


# --- Failed but charged ------------------------------------------------------------------------------
#
# Decision: a buyer who was debited for a payment INTRASA never recorded asks from the refund page with
# the bank or e-wallet statement (uploaded, re-encoded by ``intrasa.uploads``). The money is not in
# INTRASA's books yet, so it cannot be approved until Finance book it from where it shows up: an
# unmatched line of INTRASA's bank statement (suspense → owed to the buyer), or Faspay's transaction
# report for one of the transaction's bills (the bill is recorded paid; it cannot fund the escrow, so
# it is owed back). Booking needs a reason and the report's reference, and keeps the buyer's statement
# and Finance's report as the request's evidence; until it is booked the next step is Finance's
# (``StaffTask.BOOK_CHARGE``).

CHARGE_SOURCES = ("statement", "provider")


# --- Rejections: no money without an owner ----------------------------------------------------------
#
# Decision: a rejection never leaves money the ledger owes a buyer without an owner. Almost every request
# is opened by the posting that moved its money to the transaction's buyer refund payable (the escrow
# refunded after the seller's cancellation or a dispute decided for the buyer, a split, a double, late,
# short or excess payment, an unmatched transfer matched to its payer, a charge Finance booked, and the
# return shipping INTRASA advanced). So:
#
# 1. **A claim not in the books** (a double or failed-but-charged payment the buyer reported, not booked
#    yet: ``RefundRequest.needs_charge_booked``) can be rejected by Finance with a reason; nothing moves,
#    because nothing was booked.
# 2. **Money already booked cannot be rejected.** Money a payment owes back was the buyer's own and never
#    funded anything; money a dispute decision (or the seller's cancellation, or an agreement) owes back
#    is the buyer's by that decision. It is paid to the buyer: staff waive or record the missing
#    documents, or contact the buyer (the no-dead-ends tasks below). ``refunds.services.refund_reject``
#    refuses it and says so.
# 3. **A return refused at inspection.** The one place where the refund itself is in question: the goods
#    the buyer sent back reached the seller, the seller rejected them with a reason, and INTRASA staff
#    uphold that rejection with their own reason (``escrow.services.escrow_return_rejection_uphold``).
#    The buyer's claim then failed as if it had never been made, so the money is treated as on a
#    confirmation of receipt: the request's escrow money is released to the seller — INTRASA's service
#    fee as on a release (whatever of the transaction's fee was not booked yet; in a split it was already
#    taken from the seller's part) — and the seller's payout is planned (a second seller payout when the
#    split's was already planned). Return shipping INTRASA advanced for the seller's fault is taken back
#    (it was owed only because the seller was at fault, and was never paid). Both parties are told, and
#    the request reads "rejected: … released to the seller". What came back stays the buyer's: it
#    travels back to the buyer's address (section "Returned goods after an upheld rejection" above).
#
# ``escrow.checks`` holds the books to it: a buyer refund payable above zero needs an *open* request.


# --- 6) Exclusions -------------------------------------------------------------------------------


def is_excluded(*, licence_or_voucher: bool, delivered_or_activated: bool, seller_agrees: bool = False) -> bool:
    """Only digital licences and voucher codes (the seller says so on the transaction) that were
    delivered or activated are not refundable — not every digital good — and never when the seller
    agrees to refund (a settlement the seller proposed or accepted)."""
    return licence_or_voucher and delivered_or_activated and not seller_agrees


# --- Non-defect returns ----------------------------------------------------------------------------
#
# Decision: a buyer may return an item that is as described when the seller stated on the transaction
# that they accept such returns, while the money is still held (during the inspection period, so
# before confirming receipt). The buyer asks through the dispute form (reason "return without a
# defect"), which freezes the money; the seller (or staff) accepts it. The refund is the item value
# less the seller's restocking fee; shipping is not refunded; the buyer pays the return shipping. The
# money is divided like a split: the buyer's part waits for the goods (RMA, return receipt, the
# seller's or INTRASA's inspection), the rest goes to the seller (INTRASA's fee taken from it).


def non_defect_return_allowed(*, accepts_returns: bool, shipped: bool) -> bool:
    return accepts_returns and shipped


# --- 7) How to ask -------------------------------------------------------------------------------

CUSTOMER_SERVICE_WHATSAPP = "0813-9800-9700"
CUSTOMER_SERVICE_WHATSAPP_E164 = "6281398009700"


def whatsapp_subject(reference: str) -> str:
    return f"Refund – {reference}"


def whatsapp_link(reference: str) -> str:
    """wa.me link to customer service, prefilled with the subject the policy asks for."""
    return f"https://wa.me/{CUSTOMER_SERVICE_WHATSAPP_E164}?text={quote(whatsapp_subject(reference))}"
