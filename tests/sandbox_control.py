"""Driving the Faspay sandbox's control API from tests (``/sandbox/control/api``)."""
import requests


class SandboxControl:
    def __init__(self, base_url):
        self.url = f"{base_url}/sandbox/control/api"
        self.session = requests.Session()

    def __call__(self, action, **data):
        response = self.session.post(self.url, json={"action": action, **data}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def state(self):
        return self.session.get(self.url, timeout=30).json()

    def close(self):
        # A kept-alive socket keeps its live_server thread, and that thread's database connection.
        self.session.close()
