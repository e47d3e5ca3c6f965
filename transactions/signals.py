"""Signals other apps use to join a transaction's database transaction.

``escrow_released`` is sent *inside* the atomic block that released the money to seller payable,
so a receiver (the disbursements app planning the payout) writes its rows in the same commit.
Receivers must not call providers; they record intent and schedule tasks with on_commit.
"""
from django.dispatch import Signal

escrow_released = Signal()  # kwargs: escrow_transaction, amount
escrow_refunded = Signal()  # kwargs: escrow_transaction, amount, reason
