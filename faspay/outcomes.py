"""What a SendMe answer means for a payout (REFERENCE.md §2.1), in one table.

* ACCEPTED — ``200xx00`` / ``202xx00``: read ``latestTransactionStatus``: 00 success, 05/06 failed,
  04 reversed, 01/02/03 still in process.
* NOT_PROCESSED — 401xx00 (signature/clock), 409xx00 (X-EXTERNAL-ID reused), 429: SendMe did not
  act; resend with the SAME partnerReferenceNo and a new X-EXTERNAL-ID, with backoff.
* UNKNOWN — timeout, 5xx, 504, unparsable, 409xx01 (reference already used), 404xx18 (same
  reference, other data): ask ``transfer/status``; never send again blindly.
* FAILED — 403xx02/05/09/14/15/16/18, 404xx03, 404xx11 and any other 4xx: final; the money stays
  with INTRASA, a person decides what next (a retry is a new part with a new reference).
"""
from enum import Enum

from .results import (
    STATUS_CANCELED,
    STATUS_FAILED,
    STATUS_INITIATED,
    STATUS_NOT_FOUND,
    STATUS_PAYING,
    STATUS_PENDING,
    STATUS_REFUNDED,
    STATUS_SUCCESS,
    SnapAnswer,
    TransferAnswer,
)


class Outcome(Enum):
    ACCEPTED = "accepted"
    NOT_PROCESSED = "not_processed"
    UNKNOWN = "unknown"
    FAILED = "failed"


NOT_PROCESSED = {("401", "00"), ("409", "00"), ("429", "00")}
UNKNOWN = {("409", "01"), ("404", "18")}

# latestTransactionStatus (BI enum, REFERENCE.md §1.2)
SUCCESS = STATUS_SUCCESS
IN_PROCESS = {STATUS_INITIATED, STATUS_PAYING, STATUS_PENDING}
REVERSED = STATUS_REFUNDED
FAILED = {STATUS_CANCELED, STATUS_FAILED}
NOT_FOUND = STATUS_NOT_FOUND


def classify(result: SnapAnswer) -> Outcome:
    http, case = result.http, result.case
    if http in ("200", "202"):
        return Outcome.ACCEPTED
    if (http, case) in NOT_PROCESSED or http == "429":
        return Outcome.NOT_PROCESSED
    if (http, case) in UNKNOWN or http.startswith("5"):
        return Outcome.UNKNOWN
    if http == "400" and case in ("00", "01", "02"):
        # Our own request was malformed: nothing was created, but resending the same bytes fails
        # again; a person must look. Treat as final so the money is not stuck in "sending".
        return Outcome.FAILED
    return Outcome.FAILED


def is_not_found(result: TransferAnswer) -> bool:
    """Status inquiry: the transfer does not exist at SendMe (404xx01), or says 07 Not Found."""
    return result.not_found
