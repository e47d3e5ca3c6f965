"""The rules of Faspay SendMe's operational terms (section A) and the FAQ's payout promise, in one
place. Each is a small function; the numbers come from settings so that they are configurable.

* Per transfer: at most Rp 50.000.000 to a bank account, Rp 5.000.000 to an e-wallet
  (``SENDME_MAX_BANK_TRANSFER`` / ``SENDME_MAX_EWALLET_TOPUP``): larger payouts are split.
* Per WIB calendar day: the Daily Nominal Total (default Rp 50.000.000, changed by recorded staff
  action, ``DailyLimitChange``) — enforced by ``quota.reserve``.
* Instructions given between 22.00 and 05.00 WIB follow the destination bank's rules; INTRASA's
  policy (``SENDME_NIGHT_HOLD_BANK``, default on) holds bank transfers until 05.00 WIB; e-wallet
  top-ups are held only if ``SENDME_NIGHT_HOLD_EWALLET`` is on (default off).
* An instruction carries the recipient's data, the amount and a description with the reference
  number; bank: account name and number; e-wallet: name, phone and platform.
* Only e-wallet accounts registered in the recipient's name may receive a top-up.
* FAQ: the seller is paid within 1×24 working hours of the buyer's confirmation.
"""
import datetime as dt
import re

from django.conf import settings

from intrasa.wib import WIB, to_wib

NIGHT_STARTS = dt.time(22, 0)
NIGHT_ENDS = dt.time(5, 0)
PAYOUT_PROMISE_WORKING_HOURS = 24


def max_part(kind: str) -> int:
    return settings.SENDME_MAX_EWALLET_TOPUP if kind == "ewallet" else settings.SENDME_MAX_BANK_TRANSFER


def split_amount(total: int, limit: int) -> list[int]:
    """``total`` in parts of at most ``limit``: full parts first, the remainder last."""
    if total <= 0 or limit <= 0:
        raise ValueError("amounts and limits are positive")
    full, rest = divmod(total, limit)
    return [limit] * full + ([rest] if rest else [])


def is_night(moment: dt.datetime) -> bool:
    clock = to_wib(moment).time()
    return clock >= NIGHT_STARTS or clock < NIGHT_ENDS


def night_hold_until(moment: dt.datetime, kind: str) -> dt.datetime | None:
    """When a transfer given at ``moment`` may go out, or ``None`` if it may go now."""
    hold = settings.SENDME_NIGHT_HOLD_BANK if kind == "bank" else settings.SENDME_NIGHT_HOLD_EWALLET
    if not hold or not is_night(moment):
        return None
    local = to_wib(moment)
    day = local.date() if local.time() < NIGHT_ENDS else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, NIGHT_ENDS, WIB)


def start_of_next_wib_day(moment: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(to_wib(moment).date() + dt.timedelta(days=1), dt.time(0, 0), WIB)


def transfer_description(reference: str, part: int, parts: int) -> str:
    """The instruction's description: the transaction's reference number (terms A)."""
    suffix = f" {part}/{parts}" if parts > 1 else ""
    return f"INTRASA {reference}{suffix}"


_HONORIFICS = {"BPK", "BAPAK", "IBU", "SDR", "SDRI", "TN", "NY", "NN", "H", "HJ", "DR", "IR", "PT", "CV", "MR", "MRS"}


def normalize_name(name: str) -> list[str]:
    words = re.sub(r"[^A-Z ]", " ", (name or "").upper()).split()
    return [w for w in words if w not in _HONORIFICS]


def names_match(expected: str, reported: str) -> bool:
    """Does the bank's holder name belong to the person we expect?

    Banks upper-case names, drop punctuation and titles, and truncate long names (often at 20–30
    characters), so: the same words in any order, or the bank's name being a truncation (at least
    10 characters) of ours.
    """
    ours, theirs = normalize_name(expected), normalize_name(reported)
    if not ours or not theirs:
        return False
    if sorted(ours) == sorted(theirs):
        return True
    ours_text, theirs_text = " ".join(ours), " ".join(theirs)
    return len(theirs_text) >= 10 and ours_text.startswith(theirs_text)
