"""Where a transaction stands, in the words its buyer and seller need: the stepper (Dibuat → Dibayar →
Diverifikasi → Dikirim → Diterima → Dicairkan, with the branch it took) and one sentence saying what
happens next, who must act and by when.

Read-only and computed from the transaction row alone (its status and timestamps), so the pages
and the live status fragment that show it cost no extra query.
"""
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from intrasa.money import rupiah_on_one_line
from intrasa.wib import format_wib

from .models import EscrowTransaction, Status, TransactionEvent


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str  # "done", "current", "todo", "branch" (the road the transaction left the main path by)

    @property
    def state_text(self) -> str:
        """The state in words, for screen readers (the stepper shows it by its look)."""
        return str(_STATE_TEXT[self.state])


_STATE_TEXT = {"done": gettext_lazy("done"), "current": gettext_lazy("now"), "branch": gettext_lazy("ended"),
               "todo": gettext_lazy("later")}


# The main road, each step with the timestamp that says it happened.
_MAIN = (
    ("created", pgettext_lazy("transaction step", "Created"), "created_at"),
    ("paid", pgettext_lazy("transaction step", "Paid"), "paid_at"),
    ("verified", pgettext_lazy("transaction step", "Verified"), "verified_at"),
    ("shipped", pgettext_lazy("transaction step", "Shipped"), "shipped_at"),
    ("confirmed", pgettext_lazy("transaction step", "Received"), "confirmed_at"),
    ("disbursed", pgettext_lazy("transaction step", "Paid out"), None),
)
_BRANCHES = {
    Status.DISPUTED: pgettext_lazy("transaction step", "In dispute"),
    Status.REFUNDED: pgettext_lazy("transaction step", "Refunded"),
    Status.CANCELLED: pgettext_lazy("transaction step", "Cancelled"),
    Status.EXPIRED: pgettext_lazy("transaction step", "Expired"),
}
_ORDER = [key for key, _label, _field in _MAIN]


def status_label(txn: EscrowTransaction) -> str:
    """The status as people read it: before the buyer accepts, the transaction waits for the buyer's
    acceptance, not for a payment nobody can make yet (``EscrowTransaction.status_label``, which
    also says "refunded" only once the refund transfer arrived)."""
    return txn.status_label


def steps(txn: EscrowTransaction) -> list[Step]:
    """The stepper. On the main road, steps up to the status are done and the next one is current;
    on a branch, the steps that happened are done, then the branch, and the rest is not shown."""
    delivered_label = None if txn.needs_shipping else pgettext_lazy("transaction step", "Delivered")
    if txn.status in _BRANCHES:
        result = [Step(key, str(delivered_label if key == "shipped" and delivered_label else label), "done")
                  for key, label, field in _MAIN if field and getattr(txn, field)]
        result.append(Step(txn.status, str(_BRANCHES[txn.status]),
                           "current" if txn.status == Status.DISPUTED else "branch"))
        return result
    reached = _ORDER.index(txn.status)
    result = []
    for index, (key, label, _field) in enumerate(_MAIN):
        if key == "shipped" and delivered_label:
            label = delivered_label
        if index <= reached:
            state = "done"
        elif index == reached + 1:
            state = "current"
        else:
            state = "todo"
        result.append(Step(key, str(label), state))
    if txn.status == Status.DISBURSED:
        result[-1] = Step("disbursed", result[-1].label, "done")
    return result


def next_step(txn: EscrowTransaction, role: str | None, *, refund_pending: int = 0) -> str:
    """One sentence: what happens next, who must act and by when (WIB). ``refund_pending``: money the
    ledger owes back to the buyer that has not reached them (``ledger.selectors.money_statement``): a
    short payment that could not fund the transaction, what the buyer paid above the bill, a partial
    refund. The buyer is told it is on its way back, so that a buyer asked to pay again knows the first
    payment is not lost."""
    sentence = _next_step(txn, role)
    if role != "buyer" or refund_pending <= 0 or txn.status == Status.REFUNDED:
        return sentence
    if txn.status == Status.CREATED and txn.is_accepted:
        return _("Your earlier payment could not fund this transaction: %(back)s is being returned to you, and "
                 "the refund page says where it goes. To go on, pay the full %(amount)s before %(when)s.") % {
            "back": rupiah_on_one_line(refund_pending), "amount": rupiah_on_one_line(txn.amount_due),
            "when": format_wib(txn.payment_due_at)}
    # Owed back beside the transaction's own course (an excess or double payment, a partial refund).
    return sentence + " " + _("INTRASA is returning %(back)s to you: the refund page says where it goes and "
                              "when.") % {"back": rupiah_on_one_line(refund_pending)}


def _next_step(txn: EscrowTransaction, role: str | None) -> str:
    status, seller = txn.status, role == "seller"
    if status == Status.CREATED and not txn.is_accepted:
        if seller:
            return _("Waiting for the buyer to accept the invitation before %(when)s. Share the invitation "
                     "link below.") % {"when": format_wib(txn.invitation_expires_at)}
        return _("Waiting for the buyer to accept the invitation before %(when)s.") % {
            "when": format_wib(txn.invitation_expires_at)}
    if status == Status.CREATED:
        if seller:
            return _("Waiting for the buyer to pay before %(when)s. Do not ship yet: INTRASA tells you when "
                     "the payment is verified.") % {"when": format_wib(txn.payment_due_at)}
        return _("Pay %(amount)s before %(when)s. INTRASA holds it until you confirm receipt.") % {
            "amount": rupiah_on_one_line(txn.amount_due), "when": format_wib(txn.payment_due_at)}
    if status == Status.PAID:
        return _("Payment received. INTRASA is verifying it with the payment provider; this usually takes "
                 "a few minutes. Nobody needs to do anything, and the buyer must not pay again.")
    if status == Status.VERIFIED:
        if seller:
            if txn.needs_shipping:
                return _("The payment is held by INTRASA. Ship the goods before %(when)s and enter the receipt "
                         "(resi) number.") % {"when": format_wib(txn.shipping_deadline)}
            return _("The payment is held by INTRASA. Deliver before %(when)s and mark it as delivered.") % {
                "when": format_wib(txn.shipping_deadline)}
        return _("Your payment is held by INTRASA. Waiting for the seller to ship before %(when)s.") % {
            "when": format_wib(txn.shipping_deadline)}
    if status == Status.SHIPPED:
        if seller:
            return _("Waiting for the buyer to confirm receipt. If the buyer says nothing, it is confirmed "
                     "automatically on %(when)s and you are paid.") % {"when": format_wib(txn.inspection_ends_at)}
        return _("Check what you received and confirm receipt before %(when)s. If something is wrong, report a "
                 "problem before then; if you do nothing, the seller is paid automatically.") % {
            "when": format_wib(txn.inspection_ends_at)}
    if status == Status.CONFIRMED:
        if seller:
            return _("Receipt confirmed. INTRASA is sending %(amount)s to your payout account; the payout "
                     "section below shows its progress.") % {"amount": rupiah_on_one_line(txn.seller_receives)}
        return _("Receipt confirmed. INTRASA is paying the seller. Nothing more is needed from you.")
    if status == Status.DISBURSED:
        if seller:
            return _("Complete: %(amount)s was paid out to your account.") % {
                "amount": rupiah_on_one_line(txn.seller_receives)}
        return _("Complete: the seller has been paid. Thank you for using INTRASA.")
    if status == Status.DISPUTED:
        return _("The money is frozen while the dispute is open. Follow the dispute below: it says who must "
                 "answer and by when.")
    if status == Status.REFUNDED and txn.payment_taken_back_at is not None:
        if seller:
            return _("The payment provider returned the buyer's payment to the buyer, so INTRASA holds nothing "
                     "for this transaction and pays nothing out. Do not ship; if you already did, contact INTRASA.")
        return _("The payment provider returned your payment to you. The transaction has ended; no other refund "
                 "will be sent.")
    if status == Status.REFUNDED:
        if seller:
            return _("The buyer's payment is being returned to the buyer. Nothing more is needed from you.")
        return _("Your payment is being returned to you. The refund page says what is still needed from you "
                 "and where the money is.")
    if status == Status.CANCELLED:
        return _("This transaction was cancelled before any payment. No money moved.")
    return _("This transaction expired before it was paid. No money moved.")


@dataclass(frozen=True)
class TimelineEntry:
    label: str
    event: TransactionEvent  # the latest TransactionEvent of the run (its time, actor and reason are shown)
    count: int

    @property
    def role(self) -> str:
        """Who acted, as a role ("Buyer", "System"). Read from the choices once, not rebuilt per
        line as ``get_actor_role_display`` does."""
        return str(_ROLE_LABELS.get(self.event.actor_role, self.event.actor_role))


_ROLE_LABELS = dict(TransactionEvent.Role.choices)


def timeline(events: Iterable[TransactionEvent]) -> list[TimelineEntry]:
    """The timeline as customers read it: each event under its translated name, and a run of the same
    event without a state change (a buyer trying one payment method after another, repeated
    reminders) collapsed into one line with how many times it happened."""
    entries: list[TimelineEntry] = []
    for event in events:
        previous = entries[-1] if entries else None
        if (previous is not None and previous.event.action == event.action
                and not (event.to_status or event.reason or previous.event.to_status or previous.event.reason)):
            entries[-1] = TimelineEntry(previous.label, event, previous.count + 1)
        else:
            entries.append(TimelineEntry(event.label, event, 1))
    return entries
