"""What each notification says. One entry per kind: subject and body, in the recipient's language.

Bodies are ``str.format`` templates over the context a service passes (``reference``, ``title``,
``amount``, ``deadline``…); amounts and times arrive already formatted (Rupiah, WIB).

Subjects contain only what INTRASA itself writes: the reference number and amounts
(``SUBJECT_FIELDS``). Anything a user typed (titles, descriptions, names, reasons, messages) stays
in the body, where the email frames it as quoted content: in a subject line, which mail apps show
as if INTRASA had said it, a seller's "title" would be a phishing line with our name on it.
"""
import datetime as dt

from django.utils.translation import gettext_lazy as _

from intrasa.wib import WibText, format_wib

# The only named fields (``%(name)s``) a subject may use (tests/security/test_invitations.py checks every kind).
SUBJECT_FIELDS = frozenset({"reference", "amount"})

MESSAGES = {
    "invitation": (
        _("You are invited to a transaction on INTRASA ({reference})"),
        _("{seller} created the transaction \"{title}\" for {amount} and invited you as the buyer. "
          "Review the terms and accept or decline before {deadline}."),
    ),
    "accepted": (
        _("The buyer accepted transaction {reference}"),
        _("{buyer} ({buyer_email}) accepted \"{title}\" as the buyer. You will be told as soon as the "
          "payment is verified. If this is not the person you meant, cancel the transaction before "
          "it is paid."),
    ),
    "declined": (
        _("The buyer declined transaction {reference}"),
        _("{buyer} ({buyer_email}) declined \"{title}\". Reason: {reason}"),
    ),
    "cancelled": (
        _("Transaction {reference} was cancelled"),
        _("\"{title}\" was cancelled before payment. Reason: {reason}"),
    ),
    "expired": (
        _("Transaction {reference} expired"),
        _("\"{title}\" expired because it was not paid in time."),
    ),
    "payment_verified_seller": (
        _("Payment verified: please ship {reference}"),
        _("The buyer's payment of {amount} for \"{title}\" is verified and held by INTRASA. "
          "Ship the goods or deliver the service before {deadline}."),
    ),
    "payment_verified_buyer": (
        _("Your payment for {reference} is verified"),
        _("Your payment of {amount} for \"{title}\" is verified and held safely by INTRASA until "
          "you confirm receipt."),
    ),
    # Faspay took the buyer's payment back (a reversal) while INTRASA held it; staff booked it
    # (``transactions.services.transaction_take_back_payment``).
    "payment_taken_back_buyer": (
        _("Your payment for {reference} was returned to you by the payment provider"),
        _("The payment provider reversed your payment of {amount} for \"{title}\" and returned it to you, "
          "so INTRASA no longer holds it. The transaction has ended: nothing will be paid to the seller and "
          "no other refund will be sent. If you did not expect this, contact INTRASA."),
    ),
    "payment_taken_back_seller": (
        _("The buyer's payment for {reference} was reversed by the payment provider"),
        _("The payment provider reversed the buyer's payment of {amount} for \"{title}\" and returned it to "
          "the buyer, so INTRASA no longer holds any money for this transaction and will not pay it out. "
          "Do not ship. If you already shipped the goods, contact INTRASA: staff will help you recover them."),
    ),
    "goods_received": (
        _("{reference}: the buyer received the goods"),
        _("The buyer marked \"{title}\" as received. The inspection period runs until {deadline}; without a "
          "dispute the money is then released to you."),
    ),
    "inspection_extended": (
        _("{reference}: inspection period extended"),
        _("The buyer extended the inspection period of \"{title}\" once, until {deadline}. Reason: {reason}"),
    ),
    "shipped": (
        _("{reference} has been shipped"),
        _("The seller shipped \"{title}\" ({shipment}). Check it when it arrives and confirm receipt. "
          "Without a confirmation or a dispute the transaction is confirmed automatically at "
          "{deadline}."),
    ),
    "confirm_reminder": (
        _("Reminder: confirm receipt of {reference}"),
        _("The inspection period of \"{title}\" ends at {deadline}. Confirm receipt, or open a "
          "dispute if something is wrong; otherwise the transaction is confirmed automatically."),
    ),
    "shipping_reminder": (
        _("Reminder: ship {reference} before the deadline"),
        _("\"{title}\" must be shipped before {deadline}. If it is not, the buyer may claim a refund."),
    ),
    "shipping_overdue_buyer": (
        _("The seller has not shipped {reference}"),
        _("The shipping deadline of \"{title}\" ({deadline}) has passed. You may open a claim to get "
          "your money back."),
    ),
    "confirmed_seller": (
        _("{reference} confirmed: payout on its way"),
        _("\"{title}\" is confirmed. {amount} will be paid out to you within 1×24 working hours."),
    ),
    "confirmed_buyer": (
        _("You confirmed {reference}"),
        _("Thank you. \"{title}\" is complete and the seller will be paid."),
    ),
    "dispute_opened": (
        _("A dispute was opened on {reference}"),
        _("The buyer opened a dispute on \"{title}\": {reason}. The funds stay frozen until it is "
          "resolved."),
    ),
    "refunded": (
        _("{reference} will be refunded"),
        _("The payment for \"{title}\" ({amount}) is returned to the buyer. Reason: {reason}"),
    ),
    "verify_email": (
        _("Confirm your email address for INTRASA"),
        # No "Hello" here: the email greets the recipient once, itself (notifications/email.*).
        _("Please confirm that {email} is your email address by opening the link "
          "below while logged in to INTRASA. The link is valid for {days} days. Until the address "
          "is confirmed, invitations that sellers send to it are not listed in your account. "
          "If you did not create an INTRASA account, ignore this email."),
    ),
    "second_factor_enrolled": (
        _("An authenticator app was set up for your INTRASA staff account"),
        _("An authenticator app was just set up as the second factor of your INTRASA "
          "staff account. If this was not you, tell an INTRASA administrator at once: someone knows "
          "your password."),
    ),
    "payment_double": (
        _("A second payment was received for {reference}"),
        _("We received {amount} for \"{title}\", which was already paid. This double payment will be "
          "refunded to you; our team will contact you."),
    ),
    "payment_short": (
        _("The payment for {reference} is less than the bill"),
        _("We received {amount} for \"{title}\", but the bill was {due}. The transaction cannot "
          "continue with a partial payment; the amount received will be refunded to you."),
    ),
    "payment_late": (
        _("A payment arrived after {reference} closed"),
        _("We received {amount} for \"{title}\" after the transaction had closed without payment. The "
          "transaction cannot continue; the full amount will be refunded to you."),
    ),
    "payment_excess": (
        _("You paid more than the bill for {reference}"),
        _("We received {amount} for \"{title}\"; the bill was {due}. The transaction continues and "
          "the difference will be refunded to you."),
    ),
    "payout_sent": (
        _("{amount} paid out for {reference}"),
        _("{amount} for \"{title}\" was sent to {destination}."),
    ),
    "refund_sent": (
        _("Refund of {amount} sent for {reference}"),
        _("{amount} for \"{title}\" was refunded to {destination}."),
    ),
    "payout_failed": (
        _("A transfer for {reference} failed"),
        _("We could not send {amount} for \"{title}\": {reason}. The money is safe with INTRASA. "
          "Please check your payout account in your profile; our team will retry the transfer."),
    ),
    # --- disputes (disputes.services) and refunds (refunds.services) ---
    "dispute_split": (
        _("Dispute on {reference} resolved: split"),
        _("The dispute on \"{title}\" was resolved with a split: {buyer_amount} goes back to the buyer "
          "and {seller_amount} to the seller. Reason: {reason}"),
    ),
    "dispute_resolved_return": (
        _("Return accepted for {reference}"),
        _("The seller accepted the return of \"{title}\". Send the goods back with the RMA number shown on the "
          "refund page and add the courier receipt there; {amount} is refunded after the inspection."),
    ),
    "dispute_message": (
        _("New message in the dispute on {reference}"),
        _("{author} wrote in the dispute on \"{title}\": {excerpt}"),
    ),
    "offer_proposed": (
        _("A settlement was proposed for {reference}"),
        _("{author} proposes to settle the dispute on \"{title}\": {offer}. Accept or reject it before "
          "{deadline}; without an answer INTRASA staff decide."),
    ),
    "offer_accepted": (
        _("Settlement accepted for {reference}"),
        _("{author} accepted the settlement of the dispute on \"{title}\": {offer}."),
    ),
    "offer_rejected": (
        _("Settlement rejected for {reference}"),
        _("{author} rejected the settlement proposed for \"{title}\" ({offer}). {note}"),
    ),
    "dispute_escalated": (
        _("INTRASA staff will decide the dispute on {reference}"),
        _("The dispute on \"{title}\" was handed to INTRASA staff ({why}). A decision is due by {deadline}."),
    ),
    "refund_requested": (
        _("Refund request for {reference}"),
        _("A refund of {amount} for \"{title}\" was registered ({case}). Documents still needed: {missing}. "
          "Add them on the refund page, or contact customer service on WhatsApp 0813-9800-9700 with "
          "the subject \"Refund – {reference}\"."),
    ),
    "refund_in_review": (
        _("Refund for {reference}: documents complete"),
        _("The documents for the refund of {amount} for \"{title}\" are complete. INTRASA verifies and "
          "approves it by {deadline}."),
    ),
    "refund_approved": (
        _("Refund of {amount} approved for {reference}"),
        _("The refund of {amount} for \"{title}\" was approved and is being transferred to the buyer's own bank "
          "account or e-wallet (none of INTRASA's payment methods can be refunded by the provider). It arrives "
          "between {earliest} and {latest}; the time the bank or platform needs is outside INTRASA's control."),
    ),
    "refund_returned_by_provider": (
        _("Refund request for {reference} closed: the payment provider returned your payment"),
        _("The payment provider reversed your payment for \"{title}\" and returned the money to you, so this "
          "refund request is closed and INTRASA sends nothing more for it. If you did not get the money back, "
          "contact INTRASA."),
    ),
    "refund_reduced_returned_by_provider": (
        _("Refund for {reference}: the payment provider returned your payment"),
        _("The payment provider reversed your payment for \"{title}\" and returned {returned} to you. INTRASA "
          "still refunds the return shipping it agreed to pay, {left}: the refund page says what happens next."),
    ),
    "refund_rejected": (
        _("Refund request for {reference} rejected"),
        _("The refund request for \"{title}\" was rejected. Reason: {reason}"),
    ),
    "refund_released_buyer": (
        _("Refund for {reference} rejected: the money goes to the seller"),
        _("INTRASA upheld the seller's inspection of the goods you sent back for \"{title}\". {reason} The refund "
          "request is closed and the {amount} that was owed back is released to the seller, as when receipt is "
          "confirmed. The goods you sent back stay yours: the seller sends them back to you, and the refund page "
          "asks for your address. Questions: Customer Service on WhatsApp {whatsapp}."),
    ),
    "refund_released_seller": (
        # The amount stays in the body: a subject carries only SUBJECT_FIELDS.
        _("Returned goods rejected for {reference}: the money is released to you"),
        _("INTRASA upheld your inspection of the goods returned for \"{title}\". {reason} The buyer's refund "
          "request is rejected and {seller_amount} is released to you (after INTRASA's service fee); the payout "
          "is planned. Keep the returned goods: they are the buyer's. Once the buyer gives their address you send "
          "them back within {resend_days} working days and enter the courier and receipt number on the refund "
          "page."),
    ),
    "refund_needs_account": (
        _("Refund for {reference}: add your account"),
        _("To receive the refund of {amount} for \"{title}\", add or choose a bank account or e-wallet in your "
          "own name on the refund page. The transfer starts as soon as the account is checked."),
    ),
    "refund_account_refused": (
        _("Refund for {reference}: choose another account"),
        _("INTRASA could not send the refund of {amount} for \"{title}\" to your e-wallet: it is registered to "
          "\"{name}\", not to you ({reason}). Add or choose a bank account or e-wallet in your own name on the refund "
          "page."),
    ),
    "refund_task": (
        _("Refund task for {reference}"),
        _("You hold the next step of the refund of {amount} for \"{title}\" ({case}): {task} Due by {deadline}."),
    ),
    "refund_completed": (
        _("Refund for {reference} completed"),
        _("{amount} for \"{title}\" was refunded to the buyer. The refund receipt is on the transaction page."),
    ),
    "refund_given_back": (
        _("Refund for {reference}: the bank sent it back"),
        _("The bank returned the refund of {amount} for \"{title}\" to INTRASA after it had been reported as "
          "sent. The money is safe with INTRASA and is still yours: our team will send it again. Check that your "
          "account on the refund page is correct; the date it reaches you is there too."),
    ),
    # --- returns and booked charges (refunds.services) ---
    "return_next_step": (
        _("Return for {reference}: the next step"),
        _("The return of \"{title}\" (RMA {rma}, refund {amount}) moved on. Next step: {step} Due by {deadline}. "
          "The details are on the refund page."),
    ),
    # The goods' way back to the buyer after an upheld rejection (refunds.policy: RESEND_*). The
    # shipping payer picks the kind, so that no prose travels in the parameters.
    "return_resend_address": (
        _("Return {reference}: where should the goods go back?"),
        _("The goods you sent back for \"{title}\" (RMA {rma}) stay yours. Enter the address they go back to on "
          "the refund page by {deadline}; the seller then sends them within {days} working days. You pay the "
          "courier for this shipment on delivery (shipping paid by the recipient)."),
    ),
    "return_resend_address_seller_pays": (
        _("Return {reference}: where should the goods go back?"),
        _("The goods you sent back for \"{title}\" (RMA {rma}) stay yours. Enter the address they go back to on "
          "the refund page by {deadline}; the seller then sends them within {days} working days. INTRASA decided "
          "that the seller pays this shipment."),
    ),
    "return_resend_requested": (
        _("Return {reference}: send the goods back to the buyer"),
        _("Send the goods returned for \"{title}\" (RMA {rma}) back to the buyer at this address:\n{address}\n"
          "Send them with the shipping paid by the recipient, and enter the courier and receipt number on the "
          "refund page by {deadline}."),
    ),
    "return_resend_requested_seller_pays": (
        _("Return {reference}: send the goods back to the buyer"),
        _("Send the goods returned for \"{title}\" (RMA {rma}) back to the buyer at this address:\n{address}\n"
          "INTRASA decided that you pay this shipment. Enter the courier and receipt number on the refund page by "
          "{deadline}."),
    ),
    "return_resent": (
        _("Return {reference}: your goods are on their way back"),
        _("The seller sent the goods of \"{title}\" (RMA {rma}) back to you with {courier}, receipt number "
          "{receipt}. Mark them received on the refund page when they arrive."),
    ),
    "return_back_with_buyer": (
        _("Return {reference}: the goods are back with the buyer"),
        _("The goods of \"{title}\" (RMA {rma}) are back with the buyer since {at}. This return is finished."),
    ),
    "refund_charge_booked": (
        _("Refund for {reference}: your charge was found"),
        _("INTRASA found the charge you reported for \"{title}\" in {source} and booked {amount} to be returned "
          "to you. The refund now goes to approval; the details are on the refund page."),
    ),
    # --- personal data (privacy.services) ---
    "data_export_ready": (
        _("Your INTRASA data archive is ready"),
        _("The archive with all the data INTRASA holds about you is ready. Download it from the privacy page of "
          "your account before {expires}; after that the link stops working and the archive is deleted."),
    ),
    "email_change_verify": (
        _("Confirm your new email address for INTRASA"),
        _("Hello {name}, you asked to change the email address of your INTRASA account to {email}. Open the link "
          "below while logged in to INTRASA to confirm it. The link is valid until {expires}. Until then you keep "
          "logging in with your current address. If you did not ask for this, ignore this email."),
    ),
    "email_change_requested": (
        _("A change of your INTRASA email address was requested"),
        _("On {at} someone asked to change the email address of your account to {masked}. It only takes effect "
          "when the new address is confirmed. If this was not you, change your password now and contact customer "
          "service on WhatsApp 0813-9800-9700."),
    ),
    "email_changed": (
        _("Your INTRASA email address was changed"),
        _("The email address of your INTRASA account was changed to {masked} on {at}. From now on you log in "
          "with the new address. If this was not you, contact customer service on WhatsApp 0813-9800-9700 at once."),
    ),
    "milestone_plan_proposed": (
        _("You are invited to a milestone plan on INTRASA ({amount})"),
        _("{seller} proposed \"{title}\" in {count} milestones, {amount} in total, and invited you as the buyer. "
          "Review the milestones, their amounts and due dates, then accept or decline the plan."),
    ),
}


def message_params(context: dict) -> dict:
    """The context of a message as JSON to store with it: text as text, and every WIB time
    (``format_wib``) as its instant, so that it can be said again in another language."""
    params: dict[str, object] = {}
    for key, value in context.items():
        if isinstance(value, WibText) and value.instant is not None:
            params[key] = {"wib": value.instant.isoformat(), "with_time": value.with_time}
        else:
            params[key] = str(value)
    return params


def render_message(kind: str, params: dict, index: int) -> str | None:
    """The subject (``index`` 0) or body (1) of ``kind`` in the active language from stored
    ``params``; ``None`` when it cannot be (an unknown kind, a named field ``%(name)s`` with no value), so the caller
    falls back to the text stored in the language it was written in."""
    templates = MESSAGES.get(kind)
    if templates is None:
        return None
    context = {}
    for key, value in params.items():
        if isinstance(value, dict) and "wib" in value:
            context[key] = format_wib(dt.datetime.fromisoformat(value["wib"]), with_time=value.get("with_time", True))
        else:
            context[key] = value
    try:
        return str(templates[index]).format(**context)
    except (KeyError, IndexError, ValueError):
        return None
