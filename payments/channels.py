"""The payment methods INTRASA offers (FAQ: bank transfer, virtual account, convenience store and
QRIS), with Faspay's channel codes (REFERENCE.md §4.2), the provider's settlement delay
(REFERENCE.md §6: when the cash actually reaches INTRASA) and the instructions shown to the buyer.
"""
from dataclasses import dataclass, field

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


class Method:
    VIRTUAL_ACCOUNT = "va"
    RETAIL = "retail"
    QRIS = "qris"
    BANK_TRANSFER = "bank_transfer"


METHOD_LABELS = {
    Method.VIRTUAL_ACCOUNT: _("Virtual account"),
    Method.RETAIL: _("Convenience store"),
    Method.QRIS: _("QRIS"),
    Method.BANK_TRANSFER: _("Bank transfer"),
}


@dataclass(frozen=True)
class Channel:
    code: str  # Faspay payment_channel; "transfer" for our own escrow account
    name: str
    method: str
    settlement_days: int  # working days until Faspay settles the cash to INTRASA (D+n)
    steps: tuple = field(default_factory=tuple)
    min_amount: int = 10_000
    max_amount: int | None = None
    # True only where Faspay's documentation says the channel refuses any amount other than the
    # bill's ("closed amount"); then a paid bill's amount is known without a notification. See
    # CLOSED_AMOUNT_DECISION: no channel qualifies today.
    closed_amount: bool = False


# Which channels are "closed amount" (the provider refuses any other amount), decided from
# Faspay's published documentation (REFERENCE.md §4.1, docs.faspay.co.id Debit pages):
# * The Inquiry Payment Status answer states no amount at all (payment_reff, payment_date,
#   payment_status_code only), so it can never tell how much arrived.
# * The only "close amount" wording in Faspay's Debit docs is for *static* transactions
#   ("Static VA Close Generator", the static-transaction inquiry flow), which INTRASA does not use.
#   The Bank Transfer (VA), Retail and QRIS integration guides for dynamic bills created by Post
#   Data say nothing about refusing other amounts, and the payment notification carries both
#   ``bill_total`` and ``payment_total`` — fields that would be pointless if they always agreed.
# So no channel is treated as closed-amount: a paid bill whose notification is lost waits, with
# nothing released, until a source that states the amount (a late notification, or staff reading
# Faspay's transaction report) records it. Revisit per channel once Faspay confirms it in writing
# at onboarding (REFERENCE.md §8 item 6) — then set ``closed_amount=True`` on that channel.
CLOSED_AMOUNT_DECISION = "no Faspay channel is documented as refusing amounts other than the bill's"


def _in_language(message, **params):
    """``message % params`` translated when shown, not when this module is imported (a lazy
    string formatted at import would stay in the language active then)."""
    return lazy(lambda: str(message) % params, str)()


def _va_steps(bank: str, app: str):
    return (
        _in_language(_("ATM %(bank)s: choose Other Transactions → Transfer → Virtual Account, enter the virtual "
                       "account number shown above, check the name and the amount, then confirm."), bank=bank),
        _in_language(_("%(app)s: open Transfer → Virtual Account, enter the virtual account number, check that "
                       "the amount is exactly the one shown here, then confirm with your PIN."), app=app),
        _in_language(_("Other banks: choose interbank transfer to %(bank)s and use the virtual account number "
                       "as the account number."), bank=bank),
    )


def _retail_steps(store: str):
    return (
        _in_language(_("Go to the cashier of any %(store)s and say that you want to pay a Faspay bill."),
                     store=store),
        _("Show the payment code or barcode above and pay exactly the amount shown; keep the receipt."),
    )


QRIS_STEPS = (
    _("Open any app that supports QRIS (mobile banking, GoPay, OVO, DANA, ShopeePay, LinkAja)."),
    _("Scan the QR code above, check that the amount and the merchant INTRASA are right, then pay."),
)

CHANNELS: dict[str, Channel] = {
    c.code: c for c in [
        Channel("702", "BCA Virtual Account", Method.VIRTUAL_ACCOUNT, 0, _va_steps("BCA", "BCA mobile")),
        Channel("800", "BRI Virtual Account", Method.VIRTUAL_ACCOUNT, 0, _va_steps("BRI", "BRImo")),
        Channel("801", "BNI Virtual Account", Method.VIRTUAL_ACCOUNT, 1, _va_steps("BNI", "BNI Mobile Banking")),
        Channel("802", "Mandiri Virtual Account", Method.VIRTUAL_ACCOUNT, 1, _va_steps("Mandiri", "Livin' by Mandiri")),
        Channel("402", "Permata Virtual Account", Method.VIRTUAL_ACCOUNT, 1, _va_steps("Permata", "PermataMobile X")),
        Channel("706", "Indomaret", Method.RETAIL, 3, _retail_steps("Indomaret"), max_amount=5_000_000),
        Channel("707", "Alfamart", Method.RETAIL, 3, _retail_steps("Alfamart / Alfamidi"), max_amount=5_000_000),
        Channel("711", "QRIS (ShopeePay)", Method.QRIS, 1, QRIS_STEPS, max_amount=10_000_000),
        Channel("715", "QRIS (LinkAja)", Method.QRIS, 1, QRIS_STEPS, max_amount=10_000_000),
    ]
}


def channel_get(code: str) -> Channel | None:
    return CHANNELS.get(code)


def channels_for(amount: int) -> list[Channel]:
    """The channels that accept ``amount`` (retail counters and QRIS have upper limits)."""
    return [c for c in CHANNELS.values()
            if amount >= c.min_amount and (c.max_amount is None or amount <= c.max_amount)]
