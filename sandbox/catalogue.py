"""Test accounts, bank codes and payment channels the sandbox knows (documented in README.md).

Every other well-formed account exists and succeeds, with a holder name derived from its number
so that the same number always answers with the same name.
"""
import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TestAccount:
    number: str
    behaviour: str  # invalid | other_name | pending | fail | reverse | unregistered
    description: str
    holder_name: str = ""


BANK_TEST_ACCOUNTS = {
    account.number: account
    for account in [
        TestAccount("4040404040", "invalid",
                    "Does not exist: inquiry and transfer answer 404xx11 Invalid Account."),
        TestAccount("1212121212", "other_name",
                    "Exists, but the holder is someone else: inquiry returns 'PT NAMA LAIN SEKALI'; "
                    "transfers succeed.", holder_name="PT NAMA LAIN SEKALI"),
        TestAccount("3030303030", "pending",
                    "Transfer accepted and stays 03 (Pending) forever; no callback."),
        TestAccount("6060606060", "fail",
                    "Transfer accepted (03), then fails: 06 after the settle delay, deposit refunded, "
                    "callback sent."),
        TestAccount("4444444444", "reverse",
                    "Transfer succeeds (00), then is reversed: 04 after the reverse delay, deposit "
                    "refunded, a callback for each change."),
    ]
}

EWALLET_TEST_ACCOUNTS = {
    account.number: account
    for account in [
        TestAccount("081200000404", "unregistered",
                    "Not a registered e-wallet: top-up answers 404xx11 Invalid Account."),
        TestAccount("081200000303", "pending", "Top-up stays 03 (Pending) forever."),
        TestAccount("081200000606", "fail", "Top-up fails after acceptance: 06, deposit refunded."),
    ]
}

BANK_NAMES = {
    "002": "BANK BRI", "008": "BANK MANDIRI", "009": "BANK BNI", "011": "BANK DANAMON",
    "013": "BANK PERMATA", "014": "BANK BCA", "016": "MAYBANK", "022": "BANK CIMB NIAGA",
    "028": "BANK OCBC NISP", "147": "BANK MUAMALAT", "200": "BANK BTN", "213": "BANK BTPN",
    "427": "BANK BNI SYARIAH", "441": "BANK BUKOPIN", "451": "BANK SYARIAH INDONESIA",
    "490": "BANK NEO COMMERCE", "535": "SEABANK", "542": "BANK JAGO",
}

EWALLET_PLATFORMS = {"ovo": "OVO", "gpy": "GoPay", "dna": "DANA", "lkj": "LinkAja", "shp": "ShopeePay"}

BANK_ACCOUNT_FORMAT = re.compile(r"^\d{5,20}$")
BANK_CODE_FORMAT = re.compile(r"^\d{3}$")
EWALLET_NUMBER_FORMAT = re.compile(r"^(08|628)\d{7,12}$")

_FIRST = ["BUDI", "SITI", "AGUS", "DEWI", "RINA", "ANDI", "PUTRI", "HENDRA", "LESTARI", "YUSUF",
          "WAHYU", "MAYA", "DIAN", "FAJAR", "INDAH", "RUDI"]
_LAST = ["SANTOSO", "RAHAYU", "WIJAYA", "KUSUMA", "SAPUTRA", "HIDAYAT", "PRATAMA", "NASUTION",
         "SIREGAR", "HALIM", "SETIAWAN", "LUBIS", "GUNAWAN", "PURNAMA", "SUHARTO", "TANJUNG"]


def holder_name(number: str) -> str:
    """The account holder's name: fixed for test accounts, registered through the control API,
    or derived from the number otherwise."""
    account = BANK_TEST_ACCOUNTS.get(number) or EWALLET_TEST_ACCOUNTS.get(number)
    if account and account.holder_name:
        return account.holder_name
    from .models import RegisteredAccount

    registered = RegisteredAccount.objects.filter(number=number).values_list("holder_name", flat=True).first()
    if registered:
        return registered
    digest = hashlib.sha256(number.encode()).digest()
    return f"{_FIRST[digest[0] % len(_FIRST)]} {_LAST[digest[1] % len(_LAST)]}"


def bank_name(code: str) -> str:
    return BANK_NAMES.get(code, f"BANK {code}")


def bank_behaviour(number: str) -> str:
    account = BANK_TEST_ACCOUNTS.get(number)
    return account.behaviour if account else "success"


def ewallet_behaviour(number: str) -> str:
    account = EWALLET_TEST_ACCOUNTS.get(number)
    return account.behaviour if account else "success"


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    kind: str  # va | retail | qris
    prefix: str


PAYMENT_CHANNELS = {
    channel.code: channel
    for channel in [
        Channel("702", "BCA Virtual Account", "va", "3901"),
        Channel("800", "BRI Virtual Account", "va", "8800"),
        Channel("801", "BNI Virtual Account", "va", "8801"),
        Channel("802", "Mandiri Virtual Account", "va", "8802"),
        Channel("402", "Permata Virtual Account", "va", "8402"),
        Channel("706", "Indomaret", "retail", "7060"),
        Channel("707", "Alfamart", "retail", "7070"),
        Channel("711", "ShopeePay QRIS", "qris", "7110"),
        Channel("715", "LinkAja QRIS", "qris", "7150"),
    ]
}

PAYMENT_STATUS = {
    "0": "Unprocessed",
    "1": "In Process",
    "2": "Payment Success",
    "3": "Payment Failed",
    "4": "Payment Reversal",
    "5": "No bills found",
    "7": "Payment Expired",
    "8": "Payment Cancelled",
    "9": "Unknown",
}

TRANSACTION_STATUS = {
    "00": "Success", "01": "Initiated", "02": "Paying", "03": "Pending", "04": "Refunded",
    "05": "Canceled", "06": "Failed", "07": "Not found",
}
