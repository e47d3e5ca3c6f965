"""INTRASA's payment code against the Faspay sandbox over real HTTP (pytest-django live_server)."""
import pytest
import requests

from tests import scenarios
from transactions.models import Status


class Control:
    def __init__(self, base_url):
        self.url = f"{base_url}/sandbox/control/api"
        self.session = requests.Session()

    def __call__(self, action, **data):
        response = self.session.post(self.url, json={"action": action, **data}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["result"]


@pytest.fixture
def faspay(live_server, settings):
    """Point INTRASA at the sandbox on the live server; notifications come back to it."""
    settings.SITE_URL = live_server.url
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.FASPAY_DEBIT_BASE_URL = f"{live_server.url}/sandbox/debit"
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 5
    control = Control(live_server.url)
    control("config", callback_retry_seconds=0)
    yield control
    control.session.close()


@pytest.fixture
def accepted(seller, buyer):
    """A transaction the buyer accepted and may now pay."""
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
