"""Who may see each private record of a transaction: files, refund and payout accounts, PDFs,
ledger lines. Decided here, in one table, and nowhere else.

Every view that serves a file or shows an account asks ``may_see`` (or one of the small lookups
below that find the record's transaction and refund case and then ask ``may_see``). Someone who
may not see a record gets 404 from a view — the same answer as for a record that does not exist —
and simply does not find it on a page.

Why here: the decision depends on the refund case (``refunds.policy.RefundCase``), and disputes,
refunds, documents and the transaction page all need it. ``refunds`` sits below ``documents`` and
``pages`` and beside ``disputes`` (which already reads ``refunds.policy``), so every caller can
import it without an import going upwards (DESIGN.md §2).

Who asks
--------
* the **buyer** and the **seller** of the transaction (``EscrowTransaction.role_of``);
* **staff** (``is_staff``) through a permission, never through a name or a group: the roles of
  ``accounts/migrations/0003_staff_roles.py`` are sets of permissions. ``FINANCE`` below is
  ``refunds.approve_refund``, held by the Finance role only: finance verifies refund documents and
  approves the transfer, so it is the one staff role that needs the buyer's payment proof and
  account. Customer service and dispute officers hold the ``view_*`` permissions of disputes,
  refunds and transactions. A staff account without the permission is treated like a stranger;
* anyone else (a third user, an anonymous visitor) sees nothing.

The decisions (an escrow operator's, written down)
-------------------------------------------------
* **The buyer's own money** — double, excess and short ("failed but charged") payments
  (``policy.PAYMENT_CASES``) — is a matter between the buyer and INTRASA. The seller is not told
  (``refunds.services._parties``) and sees neither the request nor any of its documents, nor the
  ledger lines that move that money. Its documents are for the buyer and finance only.
* **Refunds that come from the deal** (cancellation, dispute decisions, returns, splits): both
  parties see the request, its amount and status, and the documents that belong to the case
  (order and RMA numbers, the return courier receipt, the inspection result) — the seller ships,
  receives returns and argues the dispute, so those concern them. Staff who read refunds see them.
* **Payment proof never leaves the buyer's side**: the proof of payment and the bank or e-wallet
  statement show the buyer's account number, name and other transactions. Buyer and finance only,
  in every case.
* **Accounts**: a refund account is seen by the buyer and finance, a payout account by the seller
  and finance — never by the other party, whatever the case (a dispute shows what was argued, not
  where the other side banks). Pages show them masked (``PayoutDestination.label``) even then.
* **Dispute evidence** is the dispute: both parties and staff who handle disputes
  (``disputes.view_evidence``) see every file either side attached; the upload form says so.
* **PDFs**: the receipt and the refund receipt are the buyer's, the payout statement the seller's;
  staff who may view transactions (``transactions.view_escrowtransaction``) download all three to
  help either party. No PDF shows an account number, and each shows only the ledger lines its
  reader may see (next point).
* **Ledger lines** of a transaction (its page and its PDFs): lines of entries that touch the
  escrow hold or the seller's payable (payment into escrow, release, refund from escrow, payouts)
  are the deal, seen by both parties. Entries that only move the buyer's refund payable (money
  owed back for a double payment, refund transfers) are the buyer's: the seller does not see them.
* **INTRASA's bank statement lines** (the escrow account's credits finance imports; their
  descriptions carry payers' names and accounts) exist only in the admin, for
  ``payments.view_bankstatementline`` (Finance). No party page shows them.

================================  ===============================  =====================================
record                            buyer's own money (PAYMENT_CASES)  every other case / no refund
================================  ===============================  =====================================
REFUND_REQUEST                    buyer · refunds.view_refundrequest  buyer · seller · refunds.view_refundrequest
PAYMENT_PROOF (file)              buyer · FINANCE                  buyer · FINANCE
CASE_DOCUMENT (file, number)      buyer · FINANCE                  buyer · seller · refunds.view_refunddocument
REFUND_ACCOUNT                    buyer · FINANCE                  buyer · FINANCE
PAYOUT_ACCOUNT                    seller · FINANCE                 seller · FINANCE
EVIDENCE (file)                   —                                buyer · seller · disputes.view_evidence
RECEIPT (PDF)                     buyer · transactions.view_escrowtransaction (same)
PAYOUT_STATEMENT (PDF)            seller · transactions.view_escrowtransaction (same)
REFUND_RECEIPT (PDF)              buyer · transactions.view_escrowtransaction (same)
ESCROW_LEDGER_LINES               buyer · seller · transactions.view_escrowtransaction (same)
BUYER_MONEY_LEDGER_LINES          buyer · transactions.view_escrowtransaction (same)
BANK_STATEMENT_LINES              payments.view_bankstatementline (admin only)
================================  ===============================  =====================================

Staff see refund requests and bank statement lines in the admin, where Django's model
permissions apply the same rule (the rows above name those permissions).
"""
from enum import StrEnum

from .policy import PAYMENT_CASES, Document

BUYER = "buyer"
SELLER = "seller"
FINANCE = "refunds.approve_refund"
VIEW_TRANSACTIONS = "transactions.view_escrowtransaction"
VIEW_EVIDENCE = "disputes.view_evidence"
VIEW_REFUND_REQUESTS = "refunds.view_refundrequest"
VIEW_REFUND_DOCUMENTS = "refunds.view_refunddocument"
VIEW_BANK_STATEMENT = "payments.view_bankstatementline"


class Record(StrEnum):
    REFUND_REQUEST = "refund_request"
    PAYMENT_PROOF = "payment_proof"
    CASE_DOCUMENT = "case_document"
    REFUND_ACCOUNT = "refund_account"
    PAYOUT_ACCOUNT = "payout_account"
    EVIDENCE = "evidence"
    RECEIPT = "receipt"
    PAYOUT_STATEMENT = "payout_statement"
    REFUND_RECEIPT = "refund_receipt"
    ESCROW_LEDGER_LINES = "escrow_ledger_lines"
    BUYER_MONEY_LEDGER_LINES = "buyer_money_ledger_lines"
    BANK_STATEMENT_LINES = "bank_statement_lines"


# Refund documents that show the buyer's own account (policy section 5 lists them per case).
PAYMENT_PROOF_DOCUMENTS = frozenset({Document.PROOF_OF_PAYMENT, Document.BANK_STATEMENT})

_SAME_FOR_EVERY_CASE = {
    Record.PAYMENT_PROOF: frozenset({BUYER, FINANCE}),
    Record.REFUND_ACCOUNT: frozenset({BUYER, FINANCE}),
    Record.PAYOUT_ACCOUNT: frozenset({SELLER, FINANCE}),
    Record.EVIDENCE: frozenset({BUYER, SELLER, VIEW_EVIDENCE}),
    Record.RECEIPT: frozenset({BUYER, VIEW_TRANSACTIONS}),
    Record.PAYOUT_STATEMENT: frozenset({SELLER, VIEW_TRANSACTIONS}),
    Record.REFUND_RECEIPT: frozenset({BUYER, VIEW_TRANSACTIONS}),
    Record.ESCROW_LEDGER_LINES: frozenset({BUYER, SELLER, VIEW_TRANSACTIONS}),
    Record.BUYER_MONEY_LEDGER_LINES: frozenset({BUYER, VIEW_TRANSACTIONS}),
    Record.BANK_STATEMENT_LINES: frozenset({VIEW_BANK_STATEMENT}),
}
_BUYERS_OWN_MONEY = {
    Record.REFUND_REQUEST: frozenset({BUYER, VIEW_REFUND_REQUESTS}),
    Record.CASE_DOCUMENT: frozenset({BUYER, FINANCE}),
}
_FROM_THE_DEAL = {
    Record.REFUND_REQUEST: frozenset({BUYER, SELLER, VIEW_REFUND_REQUESTS}),
    Record.CASE_DOCUMENT: frozenset({BUYER, SELLER, VIEW_REFUND_DOCUMENTS}),
}


def audience(record: Record, case: str | None = None) -> frozenset[str]:
    """Who may see ``record`` of a transaction whose refund (if any) is of ``case``: party roles
    (``"buyer"``, ``"seller"``) and staff permissions (``"app.codename"``)."""
    record = Record(record)
    if record in _SAME_FOR_EVERY_CASE:
        return _SAME_FOR_EVERY_CASE[record]
    return (_BUYERS_OWN_MONEY if case in PAYMENT_CASES else _FROM_THE_DEAL)[record]


def may_see(user, record: Record, *, escrow_transaction, case: str | None = None) -> bool:
    """Whether ``user`` may see ``record`` of ``escrow_transaction`` (the one decision)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    allowed = audience(record, case)
    role = escrow_transaction.role_of(user)
    if role is not None and role in allowed:
        return True
    return user.is_staff and any(user.has_perm(name) for name in allowed if "." in name)


# --- the records, looked up --------------------------------------------------------------------

def refund_document_record(kind: str) -> Record:
    return Record.PAYMENT_PROOF if kind in PAYMENT_PROOF_DOCUMENTS else Record.CASE_DOCUMENT


def may_see_refund_request(user, refund_request) -> bool:
    return may_see(user, Record.REFUND_REQUEST, escrow_transaction=refund_request.escrow_transaction,
                   case=refund_request.case)


def may_see_refund_document(user, document) -> bool:
    """A refund document (its file, or its typed number) — ``document.request`` loaded."""
    request = document.request
    return may_see(user, refund_document_record(document.kind), escrow_transaction=request.escrow_transaction,
                   case=request.case)


def may_see_refund_account(user, refund_request) -> bool:
    return may_see(user, Record.REFUND_ACCOUNT, escrow_transaction=refund_request.escrow_transaction,
                   case=refund_request.case)


def may_see_evidence(user, evidence) -> bool:
    return may_see(user, Record.EVIDENCE, escrow_transaction=evidence.dispute.escrow_transaction)


def ledger_record(postings_of_entry) -> Record:
    """Which kind of ledger line an entry is, from all its lines (``account`` loaded)."""
    from ledger.models import AccountCategory

    deal = {AccountCategory.ESCROW_HOLD, AccountCategory.SELLER_PAYABLE}
    if any(p.account.category in deal for p in postings_of_entry):
        return Record.ESCROW_LEDGER_LINES
    return Record.BUYER_MONEY_LEDGER_LINES


def visible_postings(user, *, escrow_transaction, postings) -> list:
    """The ledger lines of ``escrow_transaction`` that ``user`` may see, in their order."""
    postings = list(postings)
    by_entry: dict[int, list] = {}
    for posting in postings:
        by_entry.setdefault(posting.entry_id, []).append(posting)
    decided: dict[Record, bool] = {}
    shown = set()
    for entry_id, lines in by_entry.items():
        record = ledger_record(lines)
        if record not in decided:
            decided[record] = may_see(user, record, escrow_transaction=escrow_transaction)
        if decided[record]:
            shown.add(entry_id)
    return [p for p in postings if p.entry_id in shown]
