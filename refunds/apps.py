from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefundsConfig(AppConfig):
    """Owns the refund policy engine (refund-policy.txt) and refund requests."""

    name = "refunds"
    verbose_name = _("Refunds")

    def ready(self):
        from payments.signals import payment_owed_back
        from transactions.signals import escrow_refunded

        from .services import on_escrow_refunded, on_payment_owed_back

        escrow_refunded.connect(on_escrow_refunded, dispatch_uid="refunds.open_request_for_escrow_refund")
        payment_owed_back.connect(on_payment_owed_back, dispatch_uid="refunds.open_request_for_owed_back_payment")
