"""The double-entry ledger: accounts, journal entries and their postings.

Escrow follows TigerBeetle's two-phase transfer: verified buyer money is *held* on the
transaction's own escrow-hold account (a liability), and later *posted* onward (release to seller
payable + fee revenue) or *voided* (back to the buyer through refund payable). Balances are always
derived from postings. Entries and postings are immutable: the model refuses updates and, on
PostgreSQL, triggers refuse UPDATE/DELETE and check at commit that every entry balances
(migration 0002).
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountCategory(models.TextChoices):
    """The chart of accounts. Per-transaction accounts carry the transaction they belong to."""

    # Assets: money INTRASA holds or is owed.
    PROVIDER_CLEARING = "provider_clearing", _("Faspay collections clearing")
    ESCROW_BANK = "escrow_bank", _("INTRASA escrow bank account")
    SENDME_DEPOSIT = "sendme_deposit", _("SendMe deposit")
    OPERATING_BANK = "operating_bank", _("INTRASA operating bank account")
    # Liabilities: money INTRASA owes to someone.
    ESCROW_HOLD = "escrow_hold", _("Escrow hold (per transaction)")
    SELLER_PAYABLE = "seller_payable", _("Seller payable (per transaction)")
    BUYER_REFUND_PAYABLE = "buyer_refund_payable", _("Buyer refund payable (per transaction)")
    # Money on the escrow bank account that no bill claimed (a second transfer, a wrong amount):
    # owed to a payer not yet known, until staff match it to its transaction.
    UNMATCHED_SUSPENSE = "unmatched_suspense", _("Unmatched incoming money (suspense)")
    # Income and expenses.
    FEE_REVENUE = "fee_revenue", _("Service fee revenue")
    # The bank-transfer unique code INTRASA absorbs so that the buyer never pays more than quoted.
    PAYMENT_DISCOUNT = "payment_discount", _("Unique-code discounts (expense)")
    # Return shipping INTRASA pays a buyer beyond the escrow hold when the seller was at fault (the
    # seed's "ongkir PP"); staff recover it from the seller.
    BUYER_PROTECTION_COST = "buyer_protection_cost", _("Return shipping advanced to buyers (expense)")
    # SendMe withdrawal fees and their VAT (terms A and B).
    WITHDRAWAL_FEES = "withdrawal_fees", _("SendMe withdrawal fees (expense)")
    # A payment the provider took back after its money had left the escrow (released to the seller, or
    # refunded by INTRASA too): the buyer has it twice or the seller was paid from it. Staff recover it
    # (``escrow.services.escrow_book_provider_reversal``); until then it is owed to INTRASA.
    REVERSAL_RECEIVABLE = "reversal_receivable", _("Reversed payments to recover (receivable)")
    # What finance could not recover of it, written off with a reason (``payments.services``).
    REVERSAL_LOSS = "reversal_loss", _("Reversed payments not recovered (expense)")


DEBIT_NORMAL = {
    AccountCategory.PROVIDER_CLEARING, AccountCategory.ESCROW_BANK, AccountCategory.SENDME_DEPOSIT,
    AccountCategory.PAYMENT_DISCOUNT, AccountCategory.OPERATING_BANK, AccountCategory.WITHDRAWAL_FEES,
    AccountCategory.BUYER_PROTECTION_COST, AccountCategory.REVERSAL_RECEIVABLE, AccountCategory.REVERSAL_LOSS,
}
PER_TRANSACTION = {
    AccountCategory.ESCROW_HOLD, AccountCategory.SELLER_PAYABLE, AccountCategory.BUYER_REFUND_PAYABLE,
}


class Account(models.Model):
    category = models.CharField(_("category"), max_length=30, choices=AccountCategory.choices)
    escrow_transaction = models.ForeignKey(
        "transactions.EscrowTransaction", null=True, blank=True, on_delete=models.PROTECT,
        related_name="ledger_accounts", verbose_name=_("transaction"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "escrow_transaction"], name="one_account_per_category_and_transaction"
            ),
            models.UniqueConstraint(
                fields=["category"], condition=models.Q(escrow_transaction__isnull=True),
                name="one_global_account_per_category",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_category_display()
        if self.escrow_transaction_id:
            return f"{label} · {self.escrow_transaction}"
        return str(label)

    @property
    def is_debit_normal(self) -> bool:
        return self.category in DEBIT_NORMAL


class EntryKind(models.TextChoices):
    PAYMENT_VERIFIED = "payment_verified", _("Payment verified into escrow")
    # Verified money that cannot go into escrow (double payment, shortfall, excess): owed back.
    PAYMENT_UNMATCHED = "payment_unmatched", _("Payment owed back to the buyer")
    # A bank-statement credit no bill claimed, booked as it is imported (escrow bank → suspense).
    SUSPENSE_RECEIVED = "suspense_received", _("Unmatched money received (suspense)")
    RETURN_SHIPPING_ADVANCED = "return_shipping_advanced", _("Return shipping paid to the buyer by INTRASA")
    ESCROW_RELEASE = "escrow_release", _("Escrow released to seller")
    ESCROW_REFUND = "escrow_refund", _("Escrow returned to buyer")
    PAYOUT = "payout", _("Payout sent to seller")
    PAYOUT_REVERSED = "payout_reversed", _("Payout reversed by the bank")
    REFUND_SENT = "refund_sent", _("Refund sent to buyer")
    WITHDRAWAL = "withdrawal", _("Withdrawal from the SendMe deposit")
    REVERSAL = "reversal", _("Correction (reversing entry)")
    # The provider took a verified payment back (Faspay payment_status_code 4), booked by staff: out of
    # the clearing account, from the escrow hold while it is held, else to the reversal receivable.
    PAYMENT_TAKEN_BACK = "payment_taken_back", _("Payment taken back by the provider")
    # Finance recovered (from the seller or the buyer, into the operating account) or wrote off what a
    # reversal left owed to INTRASA.
    REVERSAL_SETTLED = "reversal_settled", _("Reversed payment recovered or written off")


class JournalEntry(models.Model):
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=EntryKind.choices)
    memo = models.CharField(_("memo"), max_length=255)
    escrow_transaction = models.ForeignKey(
        "transactions.EscrowTransaction", null=True, blank=True, on_delete=models.PROTECT,
        related_name="journal_entries", verbose_name=_("transaction"),
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("created by"),
    )
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True, db_index=True)

    # Not a column: the account categories of the lines, set by ``ledger.services.entry_post`` on the
    # entry it announces (post_save), so a listener can tell whether the entry concerns it without a
    # query. ``None`` on an entry loaded from the database or saved any other way.
    posted_categories: frozenset[str] | None = None

    class Meta:
        ordering = ["posted_at", "id"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.memo}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Journal entries are immutable; post a reversing entry instead.")
        super().save(*args, **kwargs)


class Posting(models.Model):
    class Side(models.TextChoices):
        DEBIT = "D", _("Debit")
        CREDIT = "C", _("Credit")

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings",
                              verbose_name=_("entry"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings",
                                verbose_name=_("account"))
    side = models.CharField(_("side"), max_length=1, choices=Side.choices)
    amount = models.BigIntegerField(_("amount (Rp)"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="posting_amount_positive"),
            models.CheckConstraint(condition=models.Q(side__in=["D", "C"]), name="posting_side_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.amount} {self.account}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Postings are immutable.")
        super().save(*args, **kwargs)

    @property
    def signed_amount(self) -> int:
        """Debit positive, credit negative."""
        return self.amount if self.side == self.Side.DEBIT else -self.amount
