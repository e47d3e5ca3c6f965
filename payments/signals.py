"""Signals other apps use to join a payment's database transaction.

``payment_owed_back`` is sent *inside* the atomic block that posted a verified payment to the
transaction's buyer refund payable (a double, short or excess payment), so a receiver (the refunds
app opening the refund request) writes its rows in the same commit. Receivers must not call
providers.
"""
from django.dispatch import Signal

payment_owed_back = Signal()  # kwargs: escrow_transaction, bill, amount, why ("double" | "short" | "excess")
