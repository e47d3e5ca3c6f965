from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PagesConfig(AppConfig):
    """Owns what anyone may see without logging in: the public information pages, Cek Transaksi
    (status by reference number), the fee table and the "is this payment instruction real?"
    check. Its read model (``pages.selectors``) cannot carry personal data by construction."""

    name = "pages"
    verbose_name = _("Public pages")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from accounts.models import PayoutDestination
        from disbursements.models import Payout
        from ledger.models import JournalEntry
        from refunds.models import RefundDocument, RefundRequest, ReturnShipment
        from transactions.models import EscrowTransaction, TransactionEvent

        from . import public_cache

        # Cache invalidation only (pages.public_cache): these receivers forget a transaction's
        # cached public facts and move nothing. The facts change with the transaction's row, its
        # timeline and its ledger entries; a refunded transaction's refund-by date follows every
        # input of ``refunds.selectors.refund_clock``: the request, its return shipment, documents
        # and payout, and the buyer's payout accounts (the one a refund names, or the default).
        forgetting = (
            (post_save, EscrowTransaction, public_cache.transaction_saved, "transaction"),
            (post_save, TransactionEvent, public_cache.related_saved, "event"),
            (post_save, JournalEntry, public_cache.entry_posted, "entry"),
            (post_save, RefundRequest, public_cache.related_saved, "refund"),
            (post_save, Payout, public_cache.refund_payout_saved, "payout"),
            (post_save, ReturnShipment, public_cache.refund_part_saved, "return"),
            (post_save, RefundDocument, public_cache.refund_part_saved, "refund_document"),
            (post_save, PayoutDestination, public_cache.refund_account_saved, "refund_account"),
            (post_delete, PayoutDestination, public_cache.refund_account_saved, "refund_account_deleted"),
        )
        for signal, sender, receiver, name in forgetting:
            signal.connect(receiver, sender=sender, dispatch_uid=f"pages.public_cache.{name}")

        from django.test.signals import setting_changed

        from . import page_memo

        # A kept Cek Transaksi page was rendered under the settings of its time (languages,
        # templates, static files): a test that overrides one must not be served a page rendered
        # before (settings never change in a running production process).
        setting_changed.connect(page_memo.forget_on_setting_changed, dispatch_uid="pages.page_memo.settings")
