"""Every model field that can hold personal data, and what removes it: the retention job
(``privacy.purge``), account erasure (``privacy.services.account_erase``), or nothing — then with the
reason it is kept.

``personal_fields()`` finds the fields in every concrete model of the project's own apps: email,
file, IP-address and JSON fields (a JSON value can carry anything), and text fields whose name says
they hold a name, a contact, an address, an account, or free text a person wrote (a description, a
note, a message, a statement, a title, a reason...).
``FIELDS`` declares each one. The test suite (``tests/privacy/test_personal_fields.py``) fails when a
field is found that is not declared here, when a declaration names a field that no longer exists,
and — for every declaration — when the retention job or the erasure does not in fact remove what
it is declared to remove. Adding a field that can hold personal data therefore means deciding here
how it goes, and showing it.

A declaration (``Handling``):

* ``purge`` — the keys of the retention rules (``privacy.retention``) under which the retention job
  removes or anonymises the field once its period is over (empty: the job never does);
* ``erasure`` — ``True`` when account erasure removes the erased person's own values of it at once;
* ``kept`` — required when either of the two does not reach every value: why, and what happens
  instead (a financial record kept until its period ends, an identity the law requires, a text
  written by code that names nobody, ...).
"""
import re
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

# Field names that say the field holds personal data: a person's name, contact, address or account,
# or free text someone wrote (whole words of the name, so ``ewallet_phone`` and ``original_name``
# match and ``phonetic`` would not).
PERSONAL_NAME = re.compile(r"(^|_)(name|email|phone|msisdn|address|account|holder|description|note|message|"
                           r"statement|title|reason|body|subject|label|receipt|tracking)($|_)")
# An IP address identifies a person (UU PDP); a JSON value can carry anything a caller put in it.
PERSONAL_TYPES = (models.EmailField, models.FileField, models.GenericIPAddressField,
                  models.JSONField)  # ImageField is a FileField
TEXT_TYPES = (models.CharField, models.TextField)


def _project_apps():
    root = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(root) and ".venv" not in path.parts and "site-packages" not in path.parts:
            yield config


def is_personal(field) -> bool:
    if field.is_relation or not getattr(field, "concrete", True):  # unbound fields have no ``concrete`` yet
        return False
    if isinstance(field, PERSONAL_TYPES):
        return True
    # A field with choices holds one of the project's own codes, never a person's text.
    if not isinstance(field, TEXT_TYPES) or field.choices:
        return False
    # A TextField is free text whatever its name (``missing_items`` said nothing and was never purged).
    return isinstance(field, models.TextField) or bool(PERSONAL_NAME.search(field.name))


def personal_fields() -> list[str]:
    """``app_label.Model.field`` of every field of the project's concrete models that can hold
    personal data."""
    found = []
    for config in _project_apps():
        for model in config.get_models():
            if model._meta.abstract or model._meta.proxy:
                continue
            found += [f"{model._meta.label}.{field.name}" for field in model._meta.concrete_fields if is_personal(field)]
    return found


@dataclass(frozen=True)
class Handling:
    purge: tuple[str, ...] = ()
    erasure: bool = False
    kept: str = ""


# --- reasons shared by several fields ----------------------------------------------------------------

ACCOUNT_OPEN = "The account itself: kept as long as it is open (retention rule 'account'); erasure ends it."
FINANCIAL = ("A transaction record (UU 8/1997 Pasal 11, KUP Pasal 28): erasure keeps it, the retention job "
             "anonymises it when the transaction's period ends (privacy.obligations decide when).")
CONVERSATION = ("Kept by erasure with the dispute it belongs to (the other party and staff still need it if "
                "the decision is challenged); removed by the retention job.")
REFUND_FILE = "Kept by erasure with the refund request it supports; removed by the retention job."
AUDIT = ("The audit trail and the staff access log are the record of processing and of who acted (UU PDP "
         "Pasal 31, 35): erasure keeps them, the retention job deletes them at the end of their period.")
BY_CODE = ("Written by INTRASA's code from references, amounts and provider codes, never by a person: it "
           "names nobody.")
COMPANY = ("INTRASA's own operational records (its own bank accounts, Faspay's invoices, daily limits, "
           "partner companies, holidays), written by staff about the company's business, not about a "
           "customer.")
SANDBOX = ("The Faspay stand-in's own tables (sandbox/): made-up data for development and the test suite. "
           "It is off unless DEBUG or FASPAY_SANDBOX_ENABLED (intrasa.settings.base), and production refuses "
           "sandbox credentials (intrasa.settings.production). Not INTRASA's records of anyone.")
RETAINED = ("The identity an erasure copies apart because anti-money-laundering law requires it (UU 8/2010 "
            "Pasal 21): created by erasure, deleted by the retention job after 5 years.")
OFFER = ("Erasure anonymises the offers the person made that never became a transaction (milestone plans "
         "declined, withdrawn or unanswered; payment links that started none); an offer that did become "
         "transactions is part of their records (kept until their period ends, then anonymised by the "
         "retention job with them). One that never did is anonymised 5 years after the plan was declined, "
         "withdrawn or proposed, or the link closed (rule 'unaccepted_offers'). An open link is the seller's "
         "live listing.")

TXN = "transaction_records"

FIELDS: dict[str, Handling] = {
    # audit
    "audit.AuditEntry.actor_label": Handling(purge=("audit_trail",), kept=AUDIT),
    "audit.AuditEntry.reason": Handling(purge=("audit_trail",), kept=AUDIT),
    # What an action changed, as its service wrote it (masked addresses, statuses, amounts, a learnt trx_id).
    "audit.AuditEntry.data": Handling(purge=("audit_trail",), kept=AUDIT),
    # workdays: the name of a holiday or a collective leave day.
    "workdays.CalendarOverride.name": Handling(kept=COMPANY),
    # accounts
    "accounts.User.email": Handling(erasure=True, kept=ACCOUNT_OPEN),
    "accounts.User.full_name": Handling(erasure=True, kept=ACCOUNT_OPEN),
    "accounts.User.phone": Handling(erasure=True, kept=ACCOUNT_OPEN),
    **{f"accounts.PayoutDestination.{name}": Handling(purge=(TXN,), kept=(
        "Erasure deletes the destinations no money was sent to; one money was sent to (or a refund aimed at) "
        "is a payout record, kept archived until its transactions' period ends, then the retention job keeps "
        "only the last four digits."))
       for name in ("account_number", "account_holder_name", "ewallet_phone", "verified_name")},
    # transactions
    "transactions.EscrowTransaction.buyer_email": Handling(purge=(TXN,), erasure=True, kept=(
        "Erasure clears it where the erased person is the buyer or was invited and never accepted (a closed "
        "invitation; an open one keeps it, or anyone with its link could accept it), at their current "
        "address and at each former one for the time it was theirs (privacy.selectors.former_addresses: "
        "an invitation sent to it before or after is someone else's and keeps it); a seller's erasure keeps "
        "the buyer's (another person's) address with the transaction record until the retention job.")),
    "transactions.EscrowTransaction.buyer_phone": Handling(purge=(TXN,), erasure=True, kept=(
        "As buyer_email: cleared by the buyer's erasure, and from closed invitations never accepted sent to "
        "their current number or to a former one while it was theirs; otherwise kept with the transaction "
        "record.")),
    "transactions.EscrowTransaction.title": Handling(purge=(TXN,), kept=FINANCIAL),
    "transactions.EscrowTransaction.description": Handling(purge=(TXN,), kept=FINANCIAL),
    "transactions.EscrowTransaction.tracking_number": Handling(purge=(TXN,), kept=FINANCIAL),
    "transactions.EscrowTransaction.delivery_note": Handling(purge=(TXN,), kept=FINANCIAL),
    "transactions.EscrowTransaction.inspection_extension_reason": Handling(purge=(TXN,), kept=FINANCIAL),
    "transactions.TransactionEvent.reason": Handling(purge=(TXN,), kept=FINANCIAL),
    # The step's details: courier and tracking number, scan locations, who accepted a split by agreement
    # (a full name), payment references and amounts.
    "transactions.TransactionEvent.data": Handling(purge=(TXN,), kept=FINANCIAL),
    # notifications
    "notifications.Notification.email": Handling(purge=("notifications",), erasure=True),
    "notifications.Notification.subject": Handling(purge=("notifications",), erasure=True),
    "notifications.Notification.body": Handling(purge=("notifications",), erasure=True),
    # The values the message was rendered from: references, titles, amounts, the seller's full name.
    "notifications.Notification.params": Handling(purge=("notifications",), erasure=True, kept=(
        "Erasure empties the erased person's own notifications; the seller's name in a notification sent to "
        "the buyer (another person) stays in the buyer's copy of the message they received, and goes with it "
        "when the retention job deletes it (rule 'notifications', 2 years).")),
    # payments
    "payments.BankStatementLine.description": Handling(purge=("bank_statement_lines",), kept=(
        "INTRASA's bank statement is bookkeeping evidence: erasure keeps it, the retention job removes the "
        "payer's name after 10 years.")),
    "payments.BankStatementLine.assigned_reason": Handling(purge=("bank_statement_lines",), kept=(
        "Why staff matched the line to a payer: kept by erasure with the line, removed with its description.")),
    # A Faspay payment notification exactly as received: references, amounts, status, channel, and
    # whatever else Faspay put in it (a customer's name, email or mobile number on some channels).
    "payments.ProviderNotification.payload": Handling(purge=(TXN,), kept=(
        FINANCIAL + " The retention job keeps only the notification fields Faspay documents (references, "
                    "amounts, status, channel: faspay.debit.NOTIFICATION_FIELDS), once every transaction the "
                    "bill paid is past its period.")),
    # disbursements
    "disbursements.Payout.reason": Handling(kept=BY_CODE),
    "disbursements.Disbursement.account_number": Handling(purge=(TXN,), kept=FINANCIAL),
    "disbursements.Disbursement.account_name": Handling(purge=(TXN,), kept=FINANCIAL),
    "disbursements.Disbursement.ewallet_phone": Handling(purge=(TXN,), kept=FINANCIAL),
    "disbursements.Disbursement.description": Handling(kept=BY_CODE + " (disbursements.rules.transfer_description)"),
    "disbursements.Disbursement.last_response_message": Handling(kept=BY_CODE + " (SendMe's answer)"),
    "disbursements.Disbursement.failure_reason": Handling(kept=BY_CODE),
    "disbursements.RetryApproval.reason": Handling(purge=(TXN,), kept=FINANCIAL),
    "disbursements.RetryApproval.decision_note": Handling(purge=(TXN,), kept=FINANCIAL),
    "disbursements.DailyLimitChange.reason": Handling(kept=COMPANY),
    # disputes
    "disputes.Dispute.description": Handling(purge=("dispute_conversations",), kept=CONVERSATION),
    "disputes.Dispute.escalation_reason": Handling(purge=(TXN,), kept=FINANCIAL),
    "disputes.Dispute.resolution_reason": Handling(purge=(TXN,), kept=FINANCIAL),
    "disputes.DisputeMessage.body": Handling(purge=("dispute_conversations",), kept=CONVERSATION),
    "disputes.Evidence.file": Handling(purge=("dispute_conversations",), kept=CONVERSATION),
    "disputes.Evidence.original_name": Handling(purge=("dispute_conversations",), kept=CONVERSATION),
    "disputes.SettlementOffer.note": Handling(purge=("dispute_conversations",), kept=CONVERSATION),
    "disputes.SettlementOffer.response_note": Handling(purge=("dispute_conversations",), kept=CONVERSATION),
    # refunds
    # What was missing from a parcel (a short-shipment claim): the buyer's words, found by review (its
    # name says nothing, so the finder lists it only because it is declared here).
    "refunds.ShortShipmentClaim.missing_items": Handling(purge=("dispute_conversations",), kept=CONVERSATION),
    "refunds.RefundRequest.description": Handling(purge=("refund_documents",), kept=REFUND_FILE),
    "refunds.RefundRequest.rejected_reason": Handling(purge=(TXN,), kept=FINANCIAL),
    "refunds.RefundDocument.file": Handling(purge=("refund_documents",), kept=REFUND_FILE),
    "refunds.RefundDocument.original_name": Handling(purge=("refund_documents",), kept=REFUND_FILE),
    "refunds.RefundDocument.waived_reason": Handling(purge=("refund_documents",), kept=REFUND_FILE),
    **{f"refunds.ReturnShipment.{name}": Handling(purge=(TXN,), kept=FINANCIAL)
       for name in ("address", "receipt_number", "inspection_note", "decision_reason", "buyer_address",
                    "resend_receipt_number")},
    # sandbox
    **{f"sandbox.{name}": Handling(kept=SANDBOX)
       for name in ("DepositAccount.account_no", "Transfer.beneficiary_account_no", "Transfer.beneficiary_account_name",
                    "Transfer.source_account_no", "Transfer.description", "Bill.cust_name",
                    "RegisteredAccount.holder_name", "Shipment.receipt_number", "Bill.qr_content",
                    "Callback.last_error", "Transfer.request_payload", "Bill.request_payload",
                    "Callback.payload", "Callback.log", "Shipment.events")},
    # treasury: INTRASA's withdrawals from its own SendMe deposit to its own bank account.
    **{f"treasury.WithdrawalInstruction.{name}": Handling(kept=COMPANY)
       for name in ("bank_name", "account_number", "account_holder", "reason")},
    "treasury.FaspayInvoice.note": Handling(kept=COMPANY),
    # privacy
    "privacy.EmailChangeRequest.new_email": Handling(purge=("email_change_requests",), erasure=True),
    "privacy.PersonalDataExport.file": Handling(purge=("data_exports",), erasure=True),
    "privacy.StaffAccessLog.staff_label": Handling(purge=("staff_access_log",), kept=AUDIT),
    "privacy.StaffAccessLog.reason": Handling(purge=("staff_access_log",), kept=AUDIT),
    "privacy.StaffAccessLog.ip_address": Handling(purge=("staff_access_log",), kept=AUDIT),
    "privacy.LoginRecord.ip_address": Handling(purge=("login_records",), kept=(
        "Where a login came from, kept to investigate logins that were not the person (UU PDP Pasal 35, 39): "
        "erasure keeps the records for the rest of their year and says so in the erasure record "
        "(privacy.selectors.erasure_kept); the retention job deletes them one year after the login.")),
    "privacy.ErasureRecord.kept": Handling(kept=BY_CODE + " (the retention rules' keys, counts and dates)"),
    "privacy.RetentionRun.removed": Handling(kept=BY_CODE + " (how many rows of each kind went)"),
    "privacy.ErasureRecord.confirmation_email": Handling(kept=(
        "Written by erasure so the confirmation can be sent, and emptied as soon as it is sent or given up "
        "(privacy.services.erasure_confirmation_send; tests/privacy/test_erasure.py).")),
    "privacy.RetainedIdentity.full_name": Handling(purge=("identity_after_erasure",), kept=RETAINED),
    "privacy.RetainedIdentity.email": Handling(purge=("identity_after_erasure",), kept=RETAINED),
    "privacy.RetainedIdentity.phone": Handling(purge=("identity_after_erasure",), kept=RETAINED),
    # paylinks
    "paylinks.PaymentLink.title": Handling(purge=(TXN, "unaccepted_offers"), kept=OFFER),
    "paylinks.PaymentLink.description": Handling(purge=(TXN, "unaccepted_offers"), kept=OFFER),
    # milestones
    "milestones.MilestonePlan.buyer_email": Handling(purge=(TXN, "unaccepted_offers"), erasure=True, kept=(
        "Erasure clears the invited person's own address from every plan, and a former address of theirs "
        "from the plans proposed to it while it was theirs (one proposed before or after is someone else's "
        "and keeps it; privacy.selectors.former_addresses); the seller's erasure keeps the "
        "buyer's (another person's) address of an accepted plan with its transaction records. " + OFFER)),
    "milestones.MilestonePlan.title": Handling(purge=(TXN, "unaccepted_offers"), kept=OFFER),
    "milestones.MilestonePlan.description": Handling(purge=(TXN, "unaccepted_offers"), kept=OFFER),
    "milestones.Milestone.title": Handling(purge=(TXN, "unaccepted_offers"), kept=OFFER),
    # partners: a forum or marketplace (a company) and the label staff gave one of its API keys.
    "partners.Partner.name": Handling(kept=COMPANY),
    "partners.ApiKey.label": Handling(kept=COMPANY),
    "partners.Partner.redirect_uris": Handling(kept=COMPANY),
    **{f"partners.{name}.scopes": Handling(kept=BY_CODE + " (permission codes from partners.models)")
       for name in ("ApiKey", "SellerLink")},
    "partners.WebhookEvent.payload": Handling(kept=BY_CODE + (
        " (partners.services.webhook_event_record: the event's id, type and sequence, the transaction's "
        "reference and statuses, and the partner's own order id)")),
    # The answer a retried POST gets again: a transaction as the partner API shows it (the buyer's email
    # and mobile number, the seller's title and description), or a seller's link (the seller's name).
    "partners.IdempotencyRecord.response_body": Handling(erasure=True, kept=(
        "Erasure empties the erased person's email address and mobile number, and as a seller their name, from "
        "the stored answers that hold them (partners.services.idempotency_answers_scrub), keeping the answer so that a retry still "
        "creates nothing twice; every answer is deleted PARTNER_IDEMPOTENCY_DAYS (7) days after it was "
        "given by the partners' daily housekeeping (partners.services.partner_records_prune).")),
    "partners.WebhookAttempt.response_excerpt": Handling(kept=(
        "The start of what a partner company's server answered to a webhook (which carries only references "
        "and statuses): the company's words, not a customer's.")),
    # Free text found because every TextField is looked at, whatever its name.
    "payments.Bill.qr_content": Handling(kept=BY_CODE + " (the QRIS string Faspay returns)"),
    "privacy.ConsentEvent.wording": Handling(kept=(
        "The consent text INTRASA showed, copied as shown: INTRASA's words, not the person's; the record "
        "goes with the consent records (rule 'identity_after_erasure').")),
    # Staff's note on how a mismatch between INTRASA's books and Faspay's was settled often names the
    # payer or the account holder: it goes with the records of the transaction it was about (the item
    # itself, its references and amounts, stays for the books). A difference on no transaction (a
    # Faspay invoice) is about INTRASA's own money.
    "treasury.ReconciliationItem.resolution": Handling(purge=(TXN,), kept=FINANCIAL),
    # What the check saw: INTRASA's snapshot and Faspay's answer as it came (a SendMe status answer names
    # the recipient and their account number, a mutation of the deposit account its remark). On a
    # transaction it goes with the transaction's records; one on no transaction is about INTRASA's own
    # deposit account.
    "treasury.ReconciliationItem.evidence": Handling(purge=(TXN,), kept=FINANCIAL + " " + COMPANY),
}
