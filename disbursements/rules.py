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
* Minimum per part (``SENDME_MIN_BANK_TRANSFER`` / ``SENDME_MIN_EWALLET_TOPUP``, default Rp 10.000
  each — the smallest amount Indonesian banks' online transfers and the e-wallets' top-ups accept
  in practice): a split never leaves a tail of Rp 1 (50.000.001 → 49.990.001 + 10.000).
* A part is never larger than the Daily Nominal Total of the day it is sent, so every payout can
  finish: planning splits by the smaller of the per-transfer limit and today's daily limit, and a
  queued part larger than the limit of the day it would go is re-split (``services``). So a daily
  total below two minimum parts (``smallest_daily_limit``) is refused: a staff change by the
  service, the settings by the system checks of ``disbursements.checks``.
* Response codes: the ones Faspay's documentation lists (``LISTED_RESPONSE_CODES``, the BI SNAP
  table Faspay refers to). Terms A: a code not listed there is taken to Faspay's technical team;
  the part is held, not failed, until they clarify.
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


def min_part(kind: str) -> int:
    return settings.SENDME_MIN_EWALLET_TOPUP if kind == "ewallet" else settings.SENDME_MIN_BANK_TRANSFER


def smallest_daily_limit() -> int:
    """The smallest Daily Nominal Total every payout can finish under: two minimum parts of either kind
    (a payout above one part is split into parts of at least the minimum, each sent within one day)."""
    return 2 * max(min_part("bank"), min_part("ewallet"))


def part_limit(kind: str, daily_limit: int) -> int:
    """The largest part of ``kind`` a day with ``daily_limit`` can carry."""
    return min(max_part(kind), daily_limit)


def split_amount(total: int, limit: int, minimum: int = 1) -> list[int]:
    """``total`` in parts of at most ``limit`` and at least ``minimum``: full parts first, the
    remainder last. A remainder below ``minimum`` borrows from the last full part (50.000.001 under
    50.000.000 with a Rp 10.000 minimum → 49.990.001 + 10.000). A ``total`` below ``minimum`` stays
    one part: it cannot be split into larger ones (the bank decides; ``below_minimum`` says so)."""
    if total <= 0 or limit <= 0 or minimum <= 0:
        raise ValueError("amounts and limits are positive")
    if limit < 2 * minimum:
        raise ValueError("a part limit must hold two minimum parts")
    full, rest = divmod(total, limit)
    if not rest:
        return [limit] * full
    if rest >= minimum or full == 0:
        return [limit] * full + [rest]
    return [limit] * (full - 1) + [limit - (minimum - rest), minimum]


def below_minimum(amount: int, kind: str) -> bool:
    return amount < min_part(kind)


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


def earliest_send(moment: dt.datetime, kind: str) -> dt.datetime:
    """The first instant at or after ``moment`` a part of ``kind`` may go out (night window)."""
    return night_hold_until(moment, kind) or moment


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


# --- response codes ---------------------------------------------------------------------------
# The SNAP response codes Faspay's documentation refers to (the BI SNAP table; REFERENCE.md §2):
# HTTP status → the case codes listed for it, whatever the service code in between. Anything
# else — an unknown case, an unknown HTTP status, a code that is not seven digits — is "not
# listed": terms A send the Partner to Faspay's technical team.
LISTED_RESPONSE_CASES = {
    "200": {"00"},
    "202": {"00"},
    "400": {"00", "01", "02"},
    "401": {"00", "01", "02", "03", "04"},
    "403": {f"{n:02d}" for n in range(0, 24)},
    "404": {f"{n:02d}" for n in range(0, 20)},
    "405": {"00", "01"},
    "409": {"00", "01"},
    "429": {"00"},
    "500": {"00", "01", "02"},
    "504": {"00"},
}


def is_listed_response(response_code: str) -> bool:
    code = response_code or ""
    if len(code) != 7 or not code.isdigit():
        return False
    return code[-2:] in LISTED_RESPONSE_CASES.get(code[:3], ())
