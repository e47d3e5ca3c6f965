"""Disbursements against the SendMe side of the sandbox over real HTTP (live_server)."""
from pathlib import Path

import pytest

from accounts.models import PayoutDestination
from faspay import keys
from tests import scenarios
from tests.factories import BankDestinationFactory
from tests.sandbox_control import SandboxControl
from transactions.models import Status

from .fakes import clock, fake_sendme  # noqa: F401  (fixtures of the SendMe double and the clock)

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def sendme(live_server, settings, tmp_path):
    settings.SITE_URL = live_server.url
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.SENDME_BASE_URL = f"{live_server.url}/sandbox/sendme"
    settings.SENDME_PRIVATE_KEY_PATH = str(DATA / "test-only-merchant-key.pkcs8.pem")
    settings.SENDME_PUBLIC_KEY_PATH = str(DATA / "test-only-merchant-key.public.pem")
    settings.SNAP_DEV_KEY_DIR = str(tmp_path / "keys")
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 3
    # Daytime policy in tests unless a test is about the night window.
    settings.SENDME_NIGHT_HOLD_BANK = False
    keys.clear_key_cache()
    control = SandboxControl(live_server.url)
    control("config", settle_delay_seconds=0, callback_retry_seconds=0)
    yield control
    control.close()
    keys.clear_key_cache()


def verified_bank(owner, number="7001234567", bank="014", default=True):
    return BankDestinationFactory(owner=owner, account_number=number, bank_code=bank, is_default=default,
                                  account_holder_name=owner.full_name,
                                  verification=PayoutDestination.Verification.VERIFIED)


@pytest.fixture
def confirmed(seller, buyer):
    """Build a confirmed transaction of any price (the release plans the payout)."""

    def make(price=1_250_000, shipping=0, destination=True):
        if destination and not seller.payout_destinations.filter(is_archived=False).exists():
            verified_bank(seller)
        txn = scenarios.create(seller, buyer, price=price, shipping_cost=shipping, fee_payer="buyer")
        return scenarios.advance(txn, buyer, Status.CONFIRMED)

    return make
