"""Every way a Faspay call can go wrong, as one family of exceptions.

Callers need to tell three things apart, and nothing else:

* ``FaspayRejected`` — Faspay answered and refused (Debit ``response_code`` other than 00):
  nothing was created.
* ``FaspayUnavailable`` — no usable answer (network error, timeout, HTTP 5xx without a body, a
  body that is not the protocol's): the outcome is unknown, so look (status inquiry) before
  acting again. ``MalformedAnswer`` is the case where an answer arrived but does not parse — a
  missing or mistyped field, an amount with a fraction: it is unknown in exactly the same way,
  and never surfaces as a ``KeyError`` or a 500.
* ``AmountError`` — an amount that the one codec (``faspay.amounts``) refuses.

SNAP answers with an error ``responseCode`` (4xx, 5xx) are not exceptions: they are typed results
whose meaning ``faspay.outcomes`` classifies.
"""


class FaspayError(Exception):
    """Base of every error raised by the ``faspay`` package."""


class FaspayRejected(FaspayError):
    """Faspay answered and refused (``response_code`` other than 00)."""

    def __init__(self, code: str, description: str):
        super().__init__(f"Faspay refused: {code} {description}")
        self.code = code
        self.description = description


class FaspayUnavailable(FaspayError):
    """No usable answer: network error, timeout, HTTP 5xx or a body that is not Faspay's."""


class MalformedAnswer(FaspayUnavailable):
    """An answer arrived but is not what the protocol describes (missing or mistyped field,
    unreadable amount). Treated as "outcome unknown", like a timeout."""


class AmountError(FaspayError, ValueError):
    """An amount the codec will not encode or decode: negative, too large, a fraction, garbage."""
