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

        from ledger.models import JournalEntry
        from transactions.models import EscrowTransaction, TransactionEvent

        from . import public_cache

        # Cache invalidation only (pages.public_cache): the public facts of a transaction change
        # with the transaction's row, its timeline, its ledger entries and its refunds.
        post_save.connect(public_cache.transaction_saved, sender=EscrowTransaction,
                          dispatch_uid="pages.public_cache.transaction")
        post_save.connect(public_cache.related_saved, sender=TransactionEvent,
                          dispatch_uid="pages.public_cache.event")
        post_save.connect(public_cache.related_saved, sender=JournalEntry,
                          dispatch_uid="pages.public_cache.entry")
        # A refunded transaction's refund-by date follows its refunds' steps (``refunds.policy``): every
        # input of ``refunds.selectors.refund_clock`` — the request, its return shipment, documents and
        # payout, and the buyer's payout accounts (the one a refund names, or the default) — forgets it.
        from accounts.models import PayoutDestination
        from disbursements.models import Payout
        from refunds.models import RefundDocument, RefundRequest, ReturnShipment

        post_save.connect(public_cache.related_saved, sender=RefundRequest, dispatch_uid="pages.public_cache.refund")
        post_save.connect(public_cache.refund_payout_saved, sender=Payout, dispatch_uid="pages.public_cache.payout")
        post_save.connect(public_cache.refund_part_saved, sender=ReturnShipment,
                          dispatch_uid="pages.public_cache.return")
        post_save.connect(public_cache.refund_part_saved, sender=RefundDocument,
                          dispatch_uid="pages.public_cache.refund_document")
        post_save.connect(public_cache.refund_account_saved, sender=PayoutDestination,
                          dispatch_uid="pages.public_cache.refund_account")
        post_delete.connect(public_cache.refund_account_saved, sender=PayoutDestination,
                            dispatch_uid="pages.public_cache.refund_account_deleted")

        from django.test.signals import setting_changed

        from . import page_memo

        # A kept Cek Transaksi page was rendered under the settings of its time (languages,
        # templates, static files): a test that overrides one must not be served a page rendered
        # before (settings never change in a running production process).
        setting_changed.connect(page_memo.forget_on_setting_changed, dispatch_uid="pages.page_memo.settings")
