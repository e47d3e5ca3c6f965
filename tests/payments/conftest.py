"""INTRASA's payment code against the Faspay sandbox over real HTTP (pytest-django live_server)."""
import pytest

from tests import scenarios
from tests.sandbox_control import SandboxControl
from transactions.models import Status


@pytest.fixture
def faspay(live_server, settings):
    """Point INTRASA at the sandbox on the live server; notifications come back to it."""
    settings.SITE_URL = live_server.url
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.FASPAY_DEBIT_BASE_URL = f"{live_server.url}/sandbox/debit"
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 5
    control = SandboxControl(live_server.url)
    control("config", callback_retry_seconds=0)
    yield control
    control.close()


@pytest.fixture
def accepted(seller, buyer):
    """A transaction the buyer accepted and may now pay."""
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
