"""How long INTRASA keeps each kind of personal record, why, and what happens at the end.

This table is the one place where retention periods are decided. The privacy page (``/privasi/``),
the erasure page, the erasure confirmation email and the retention job (``privacy.purge``) all read
it, so what people are told and what the system does cannot disagree.

Legal sources (read from public summaries of the texts; where a summary left a point open, the
choice below is the conservative one and says so):

* **UU No. 27/2022 tentang Pelindungan Data Pribadi (UU PDP)**, in force since 17 October 2024.
  Rights of the data subject: information (Pasal 5), correction (Pasal 6), access and a copy
  (Pasal 7), ending processing, erasure and destruction (Pasal 8), withdrawing consent (Pasal 9),
  objecting to automated decisions (Pasal 10), restricting processing (Pasal 11), compensation
  (Pasal 12), receiving the data in a machine-readable format (Pasal 13); limits in Pasal 15.
  Lawful bases (Pasal 20 ayat (2)): consent (a), performing a contract (b), a legal obligation (c),
  vital interests (d), public task (e), legitimate interests (f). Consent must be explicit, recorded
  and distinguishable (Pasal 22), and provable (Pasal 24). The controller corrects within 3×24
  hours (Pasal 30), records every processing activity (Pasal 31), gives access with the record of
  processing within 3×24 hours (Pasal 32) but refuses what would disclose another person's data
  (Pasal 33 huruf b), protects the data (Pasal 35, 39), stops processing within 3×24 hours after
  consent is withdrawn (Pasal 40), ends processing when the retention period is reached
  (Pasal 42 ayat (1) huruf a), erases data no longer needed or on request (Pasal 43) and destroys it
  when the retention period ends (Pasal 44). A personal-data breach is notified in writing within
  3×24 hours to the people affected and to the supervisory agency, saying what was exposed, when
  and how, and what is done about it (Pasal 46). A data protection officer is appointed (Pasal 53).
* **UU No. 8/1997 tentang Dokumen Perusahaan**, Pasal 11 ayat (1): records (catatan), bookkeeping
  evidence (bukti pembukuan) and the supporting financial data that is part of it are kept
  **10 years from the end of the company's financial year**. Other supporting data and other
  documents are kept according to their value (Pasal 11 ayat (2)–(3)) under a retention schedule
  (jadwal retensi, Pasal 1 angka 3 and Pasal 19) — this table is that schedule.
* **UU No. 28/2007 (Ketentuan Umum dan Tata Cara Perpajakan, KUP)**, Pasal 28 ayat (11): books,
  records and the documents behind them are kept **10 years** in Indonesia.
* **UU No. 8/2010 tentang Pencegahan dan Pemberantasan Tindak Pidana Pencucian Uang (TPPU)**,
  Pasal 21 ayat (2): a reporting party keeps the records and documents on the identity of the
  people it transacts with **at least 5 years after the business relationship ends** (reports go to
  PPATK). Whether an escrow operator is a reporting party is not settled in the summaries we read;
  we assume it is (conservative), so the identity of an erased person who transacted is kept 5
  years after the erasure, apart from the account, and nobody is told more than that about AML work
  (Pasal 12 forbids tipping off).
* **PP No. 71/2019 tentang Penyelenggaraan Sistem dan Transaksi Elektronik (PSTE)**, Pasal 15–16:
  an electronic system operator erases irrelevant personal data on request, except information
  that laws and regulations require it to keep (Pasal 16 ayat (2)).
* **Bank Indonesia** payment-system rules (PBI No. 22/23/PBI/2020 tentang Sistem Pembayaran and its
  implementing rules) require payment-service records to be kept and available to Bank Indonesia;
  the summaries we read give no shorter period than the 10 years above, so the 10 years apply.

INTRASA's financial year is the calendar year, in WIB. "Kept" never means "changed": the ledger
is never touched by anything here (its rows are immutable by design and by database trigger);
when a financial record's period ends, the personal fields around the ledger (names, contact
details, texts, account numbers beyond their last four digits) are anonymised, and the amounts,
dates and reference numbers stay.
"""
import datetime as dt
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from intrasa.wib import WIB, to_wib


def _add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """``moment`` + ``years`` calendar years; 29 February becomes 1 March (the later day)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, month=3, day=1)


def _subtract_years(moment: dt.datetime, years: int) -> dt.datetime:
    """``moment`` − ``years``; 29 February becomes 28 February (the earlier day), so that
    ``anchor <= _subtract_years(now, n)`` implies ``_add_years(anchor, n) <= now``."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


@dataclass(frozen=True)
class Period:
    """A retention period counted from an anchor (the moment a record stops being needed for the
    service: the transaction closed, the dispute was resolved, the account was erased...)."""

    years: int = 0
    days: int = 0
    # Counted from the end of the (financial = calendar, WIB) year in which the anchor falls, as
    # UU 8/1997 Pasal 11 ayat (1) counts.
    from_year_end: bool = False

    def until(self, anchor: dt.datetime) -> dt.datetime:
        """The instant the period of a record anchored at ``anchor`` ends."""
        local = to_wib(anchor)
        start = dt.datetime(local.year + 1, 1, 1, tzinfo=WIB) if self.from_year_end else local
        return _add_years(start, self.years) + dt.timedelta(days=self.days)

    def cutoff(self, now: dt.datetime) -> dt.datetime:
        """Records whose anchor is at or before this instant are past their period at ``now``
        (``anchor <= cutoff(now)`` exactly when ``until(anchor) <= now``)."""
        local = to_wib(now)
        if self.from_year_end:
            # until(anchor) = 1 January (anchor.year + 1 + years) − that is <= now exactly when
            # anchor falls in a year before (now.year − years), when no days are added.
            if self.days:
                raise ValueError("a period from the end of the year counts whole years only")
            return dt.datetime(local.year - self.years, 1, 1, tzinfo=WIB) - dt.timedelta(microseconds=1)
        return _subtract_years(local - dt.timedelta(days=self.days), self.years)

    def is_over(self, anchor: dt.datetime, now: dt.datetime) -> bool:
        return anchor <= self.cutoff(now)


@dataclass(frozen=True)
class RetentionRule:
    key: str
    record: Promise  # what kind of record, for people
    contents: Promise  # which personal data it holds
    period: Period | None  # None: as long as the account is open
    anchor: Promise  # the clause after "after": "the transaction is closed"
    purpose: Promise  # why it is kept, in plain words
    legal_basis: str  # citations only, the same in both languages (names of laws are Indonesian)
    at_end: Promise  # what happens when the period ends

    def describe_period(self) -> str:
        """The period in plain words, built from the numbers (never written twice)."""
        period = self.period
        if period is None:
            return str(_("As long as your account is open"))
        if period.from_year_end:
            return ngettext(
                "%(count)d year after the end of the year in which %(anchor)s",
                "%(count)d years after the end of the year in which %(anchor)s",
                period.years,
            ) % {"count": period.years, "anchor": self.anchor}
        if period.years:
            return ngettext("%(count)d year after %(anchor)s", "%(count)d years after %(anchor)s",
                            period.years) % {"count": period.years, "anchor": self.anchor}
        return ngettext("%(count)d day after %(anchor)s", "%(count)d days after %(anchor)s",
                        period.days) % {"count": period.days, "anchor": self.anchor}

    def until(self, anchor: dt.datetime) -> dt.datetime | None:
        return self.period.until(anchor) if self.period is not None else None

    def cutoff(self, now: dt.datetime) -> dt.datetime:
        """The latest anchor whose record is past its period at ``now`` (``privacy.purge``). A rule
        with no period (kept while the account is open) has none: the purge never asks for it."""
        if self.period is None:
            raise ValueError(f"{self.key} is kept while the account is open: it has no cutoff")
        return self.period.cutoff(now)


FINANCIAL_RECORDS = ("UU No. 8/1997 tentang Dokumen Perusahaan, Pasal 11 ayat (1); "
                     "UU No. 28/2007 (KUP), Pasal 28 ayat (11); PP No. 71/2019, Pasal 16 ayat (2); "
                     "PBI No. 22/23/PBI/2020")
# Supporting documents kept by their value under a retention schedule (jadwal retensi).
VALUE_BASED = ("UU No. 8/1997 tentang Dokumen Perusahaan, Pasal 11 ayat (2)–(3), Pasal 19; "
               "UU No. 27/2022 (PDP), Pasal 42–44")

ACCOUNT = RetentionRule(
    key="account",
    record=_("Your account"),
    contents=_("Name, email address, mobile number, language, password (as a one-way hash), consents"),
    period=None,
    anchor=_("your account is erased"),
    purpose=_("To provide the escrow service you signed up for (a contract with you)."),
    legal_basis="UU No. 27/2022 (PDP), Pasal 20 ayat (2) huruf b",
    at_end=_("When you erase your account, your name, email address and mobile number are removed "
             "from it at once; the account can no longer be used."),
)
IDENTITY_AFTER_ERASURE = RetentionRule(
    key="identity_after_erasure",
    record=_("Identity of an erased account that made transactions"),
    contents=_("Name, email address and mobile number as they were at erasure, the history of their "
               "changes and your consent records, kept apart from the account"),
    period=Period(years=5),
    anchor=_("the account is erased"),
    purpose=_("Anti-money-laundering law requires the identity of the people in transactions to be "
              "kept after the business relationship ends. Only the data protection officer can "
              "open it, and every opening is logged."),
    legal_basis="UU No. 8/2010 (TPPU), Pasal 21 ayat (2)",
    at_end=_("Deleted."),
)
TRANSACTION_RECORDS = RetentionRule(
    key="transaction_records",
    record=_("Transaction and payment records"),
    contents=_("Transactions and their timelines, the milestone plans and payment links they came from, "
               "payments, payouts and refunds with the account number and holder name paid to, dispute "
               "decisions, Finance's notes on settling a difference with the payment provider, and the ledger"),
    period=Period(years=10, from_year_end=True),
    # The end of the transaction's last obligation (``privacy.obligations``), where the purge counts from.
    anchor=_("the transaction is closed and every refund, return of goods, payout and payment check on it "
             "is finished"),
    purpose=_("Company-records and tax law require financial records and their evidence to be kept."),
    legal_basis=FINANCIAL_RECORDS,
    at_end=_("Names, contact details, descriptions, tracking numbers and account numbers (except "
             "their last four digits) are removed; amounts, dates and reference numbers stay in the "
             "ledger, which is never changed."),
)
BANK_STATEMENT_LINES = RetentionRule(
    key="bank_statement_lines",
    record=_("Lines of INTRASA's bank statement"),
    contents=_("The payer's name as the bank writes it in the description of a bank transfer"),
    period=Period(years=10, from_year_end=True),
    anchor=_("the line is booked"),
    purpose=_("A bank transfer is verified from INTRASA's bank statement, which is bookkeeping evidence."),
    legal_basis=FINANCIAL_RECORDS,
    at_end=_("The description is removed; the date, amount and bank reference stay."),
)
AUDIT_TRAIL = RetentionRule(
    key="audit_trail",
    record=_("Audit trail"),
    contents=_("Who did what and when in INTRASA (for example: signed up, changed the profile, "
               "approved a refund), with the email address of the person who acted"),
    period=Period(years=10, from_year_end=True),
    anchor=_("the action is recorded"),
    purpose=_("It proves who approved every movement of money and every change, and is the record "
              "of processing the data protection law asks for."),
    legal_basis=f"{FINANCIAL_RECORDS}; UU No. 27/2022 (PDP), Pasal 31",
    at_end=_("Deleted."),
)
DISPUTE_CONVERSATIONS = RetentionRule(
    key="dispute_conversations",
    record=_("Dispute conversations and evidence"),
    contents=_("The complaint, messages, settlement notes, and uploaded photos, videos and documents "
               "(chat attachments included)"),
    period=Period(years=5),
    # Not before the rest of its transaction is finished (``privacy.purge``: the same obligations).
    anchor=_("the dispute is resolved, its transaction is closed and every refund, return of goods, payout "
             "and payment check on it is finished"),
    purpose=_("To show how a dispute was decided if the decision is challenged. The law leaves the "
              "period to us; we chose the longest period any rule here sets for records about a "
              "person (5 years), to be safe."),
    legal_basis=VALUE_BASED,
    at_end=_("Files are deleted and the texts are removed; the decision and its amounts stay with "
             "the transaction records."),
)
REFUND_DOCUMENTS = RetentionRule(
    key="refund_documents",
    record=_("Refund documents"),
    contents=_("Uploaded proofs of payment, bank or e-wallet statements, return receipts and the "
               "chronology of the request"),
    period=Period(years=5),
    # Not before the rest of its transaction is finished (``privacy.purge``: the same obligations).
    anchor=_("the refund request is closed, its transaction is closed and every refund, return of goods, "
             "payout and payment check on it is finished"),
    purpose=_("To show why a refund was granted or refused. The refund itself (amount, account, "
              "transfer) is a transaction record. The period is our conservative choice, as for "
              "disputes."),
    legal_basis=VALUE_BASED,
    at_end=_("Files are deleted and the chronology is removed; typed numbers (order, RMA) stay with "
             "the transaction records."),
)
# A milestone plan the buyer never accepted and a payment link closed without starting a transaction
# are offers and nothing else: no money moved, no transaction record refers to them. The law leaves
# their period to us (value-based, as disputes and refund documents): the same conservative 5 years.
# An unanswered plan counts from the day it was proposed: once anonymised nobody can accept it (its
# invited address is empty). An offer that did become transactions is part of their records
# (TRANSACTION_RECORDS, ``privacy.purge``), and a link still open is the seller's live listing.
UNACCEPTED_OFFERS = RetentionRule(
    key="unaccepted_offers",
    record=_("Offers that never became a transaction"),
    contents=_("Milestone plans the buyer declined or never answered, plans the seller withdrew, and payment "
               "links closed without a purchase: the buyer's email address, titles and descriptions"),
    period=Period(years=5),
    anchor=_("the plan is declined or withdrawn (or proposed, if nobody answered it), or the payment link "
             "is closed"),
    purpose=_("To answer questions about an offer that was made. The law leaves the period to us; we chose "
              "5 years, as for disputes. When you erase your account, the offers you made are anonymised "
              "at once."),
    legal_basis=VALUE_BASED,
    at_end=_("The buyer's email address, titles and descriptions are removed; amounts and dates stay."),
)
NOTIFICATIONS = RetentionRule(
    key="notifications",
    record=_("Notifications and emails we sent you"),
    contents=_("Subject, text and the address they were sent to"),
    period=Period(years=2),
    anchor=_("the notification is created"),
    purpose=_("So that you can read them again in your account. The transaction timeline already "
              "records every reminder, so a longer period is not needed."),
    legal_basis="UU No. 27/2022 (PDP), Pasal 20 ayat (2) huruf b, Pasal 42 ayat (1) huruf b",
    at_end=_("Deleted."),
)
LOGIN_RECORDS = RetentionRule(
    key="login_records",
    record=_("Login records"),
    contents=_("Time, IP address and browser (user agent) of each login and each failed attempt"),
    period=Period(years=1),
    anchor=_("the login"),
    purpose=_("To protect your account: to notice and investigate logins that were not you."),
    legal_basis="UU No. 27/2022 (PDP), Pasal 20 ayat (2) huruf f, Pasal 35, 39",
    at_end=_("Deleted."),
)
# The services set expiry dates from these two periods; named so their type is Period, never None.
DATA_EXPORTS_PERIOD = Period(days=7)
EMAIL_CHANGES_PERIOD = Period(days=3)

DATA_EXPORTS = RetentionRule(
    key="data_exports",
    record=_("Archives of your data that you downloaded"),
    contents=_("A copy of everything listed here"),
    period=DATA_EXPORTS_PERIOD,
    anchor=_("the archive is ready"),
    purpose=_("To let you download the copy you asked for."),
    legal_basis="UU No. 27/2022 (PDP), Pasal 7, 13, 32",
    at_end=_("The archive is deleted; only the date of your request is kept with your account."),
)
EMAIL_CHANGES = RetentionRule(
    key="email_change_requests",
    record=_("Requests to change your email address"),
    contents=_("The new address until you confirm it"),
    period=EMAIL_CHANGES_PERIOD,
    anchor=_("the request is made"),
    purpose=_("To check that the new address is yours before it replaces the old one."),
    legal_basis="UU No. 27/2022 (PDP), Pasal 6, 30",
    at_end=_("Deleted when unconfirmed; a confirmed change is kept in the history of your profile."),
)
STAFF_ACCESS_LOG = RetentionRule(
    key="staff_access_log",
    record=_("Log of staff access to your data"),
    contents=_("Which INTRASA staff member opened which of your records, when and why"),
    period=Period(years=5),
    anchor=_("the access"),
    purpose=_("To hold staff accountable and to find out who was affected if data is misused. The "
              "law gives no period; we chose 5 years, as for identity records."),
    legal_basis="UU No. 27/2022 (PDP), Pasal 31, 35, 46",
    at_end=_("Deleted."),
)

RULES: tuple[RetentionRule, ...] = (
    ACCOUNT, IDENTITY_AFTER_ERASURE, TRANSACTION_RECORDS, BANK_STATEMENT_LINES, AUDIT_TRAIL,
    DISPUTE_CONVERSATIONS, REFUND_DOCUMENTS, UNACCEPTED_OFFERS, NOTIFICATIONS, LOGIN_RECORDS, DATA_EXPORTS, EMAIL_CHANGES,
    STAFF_ACCESS_LOG,
)
BY_KEY = {rule.key: rule for rule in RULES}
