"""Every Faspay endpoint in one place, and the full URLs built from the configured base URLs.

The base URLs come from settings (``FASPAY_DEBIT_BASE_URL``, ``SENDME_BASE_URL``; both default to
the built-in sandbox in development). The paths below are the protocol's: for SNAP they are also
the text that is signed (REFERENCE.md §0: the ``/account`` prefix IS part of the signed path), so a
client signs and sends the very same constant. INTRASA's own URLs that Faspay calls back
(the payment notification, the SendMe callback) are here too, because the clients send them;
``tests/faspay/test_urls.py`` keeps them equal to the routes Django serves.
"""
from urllib.parse import urlsplit

# --- Faspay Debit (legacy JSON API, REFERENCE.md §4.1) -----------------------------------------
DEBIT_CHANNEL_INQUIRY = "/cvr/100001/10"
DEBIT_POST_DATA = "/cvr/300011/10"
DEBIT_INQUIRY = "/cvr/100004/10"
DEBIT_CANCEL = "/cvr/100005/10"

# --- SendMe SNAP (REFERENCE.md §1) -------------------------------------------------------------
SENDME_ACCOUNT_INQUIRY = "/account/v1.0/account-inquiry-external"
SENDME_TRANSFER_INTERBANK = "/account/v1.0/transfer-interbank"
SENDME_TRANSFER_STATUS = "/account/v1.0/transfer/status"
SENDME_BALANCE_INQUIRY = "/account/v1.0/balance-inquiry"
SENDME_TRANSACTION_HISTORY = "/account/v1.0/transaction-history-list"
SENDME_EMONEY_TOPUP = "/account/v1.0/emoney/topup"
SENDME_EMONEY_TOPUP_STATUS = "/account/v1.0/emoney/topup-status"

# BI's B2B token endpoint (not used by Faspay as far as any document shows; REFERENCE.md §0).
SNAP_B2B_ACCESS_TOKEN = "/v1.0/access-token/b2b"

# --- INTRASA's URLs that Faspay calls -----------------------------------------------------------
DEBIT_NOTIFICATION_PATH = "/pembayaran/faspay/notifikasi/"
SENDME_CALLBACK_PATH = "/pencairan/sendme/callback/"

# Where the built-in sandbox is mounted under the site (``sandbox/urls.py``).
SANDBOX_DEBIT_MOUNT = "/sandbox/debit"
SANDBOX_SENDME_MOUNT = "/sandbox/sendme"


def join(base_url: str, path: str) -> str:
    """``base_url`` (with or without a trailing slash) + an absolute ``path``."""
    if not path.startswith("/"):
        raise ValueError(f"endpoint path must start with '/': {path!r}")
    return base_url.rstrip("/") + path


def debit_notification_url(site_url: str) -> str:
    return join(site_url, DEBIT_NOTIFICATION_PATH)


def sendme_callback_url(site_url: str) -> str:
    return join(site_url, SENDME_CALLBACK_PATH)


def is_own_sandbox(base_url: str, site_url: str, mount: str = SANDBOX_DEBIT_MOUNT) -> bool:
    """True when ``base_url`` is this site's own sandbox mount: the only host that may be sent
    fields outside Faspay's specification (``sandbox_notification_url``)."""
    base, site = urlsplit(base_url), urlsplit(site_url)
    return base.netloc == site.netloc and base.path.rstrip("/").endswith(mount)


def debit_base_url() -> str:
    from django.conf import settings

    return settings.FASPAY_DEBIT_BASE_URL


def sendme_base_url() -> str:
    from django.conf import settings

    return settings.SENDME_BASE_URL
