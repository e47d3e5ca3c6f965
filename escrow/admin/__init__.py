"""Staff pages of the escrow as a whole: the transaction (with its bills, payouts, documents and
ledger lines, which live in apps below it) and the bills' money placing. They sit in the top layer
because they show and start what crosses apps."""
from . import bills, refunds, transactions  # noqa: F401  (registers the model admins)
