"""Driving the Faspay sandbox's control API from tests (``/sandbox/control/api``)."""
import requests
from django.conf import settings


def operator_auth():
    """The sandbox operator's credentials (its hand-driven pages ask for them with DEBUG off)."""
    return (settings.FASPAY_SANDBOX_USERNAME, settings.FASPAY_SANDBOX_PASSWORD)


class SandboxControl:
    def __init__(self, base_url):
        self.url = f"{base_url}/sandbox/control/api"
        self.session = requests.Session()
        self.session.auth = operator_auth()

    def __call__(self, action, **data):
        response = self.session.post(self.url, json={"action": action, **data}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def state(self):
        return self.session.get(self.url, timeout=30).json()

    def close(self):
        # A kept-alive socket keeps its live_server thread, and that thread's database connection.
        self.session.close()
