"""The sandbox mounted with DEBUG off (a staging set-up): its hand-driven pages need the operator's
HTTP basic auth; the Faspay protocol endpoints keep Faspay's own authentication (signatures)."""
import base64

import pytest
import requests

from escrow import services as escrow_services
from payments import services as payment_services
from payments.models import Bill
from sandbox.apps import check_sandbox_operator_credentials
from tests.payments.conftest import accepted, faspay  # noqa: F401 - fixtures
from tests.sandbox_control import operator_auth

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bill(faspay, accepted, buyer):  # noqa: F811
    return payment_services.payment_start(escrow_transaction=accepted, buyer=buyer, channel_code="702")


def wrong_credentials():
    username, _password = operator_auth()
    return [None, (username, "wrong-password"), ("someone", operator_auth()[1]), ("", "")]


def test_without_the_operator_nobody_pays_reads_or_reconfigures(live_server, faspay, bill):  # noqa: F811
    api = f"{live_server.url}/sandbox/control/api"
    pages = [f"{live_server.url}/sandbox/control/", api,
             f"{live_server.url}/sandbox/debit/pay/{bill.provider_trx_id}/"]
    for auth in wrong_credentials():
        for url in pages:
            response = requests.get(url, auth=auth, timeout=10)
            assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"], url
            assert bill.provider_trx_id not in response.text and "4040404040" not in response.text
        paid = requests.post(api, json={"action": "bill_pay", "trx_id": bill.provider_trx_id}, auth=auth, timeout=10)
        redirected = requests.post(api, json={"action": "config", "notification_url": "https://evil.example/"},
                                   auth=auth, timeout=10)
        assert paid.status_code == redirected.status_code == 401
    garbled = requests.get(api, headers={"Authorization": "Basic !!!not-base64"}, timeout=10)
    no_colon = requests.get(api, headers={"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
                            timeout=10)
    assert garbled.status_code == no_colon.status_code == 401
    state = faspay.state()  # the operator
    assert state["config"]["notification_url"] == ""
    assert next(b for b in state["bills"] if b["trx_id"] == bill.provider_trx_id)["status"] == "0"
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PENDING


def test_the_operator_gets_in_and_the_protocol_needs_no_basic_auth(live_server, faspay, bill):  # noqa: F811
    for url in (f"{live_server.url}/sandbox/control/", f"{live_server.url}/sandbox/debit/pay/{bill.provider_trx_id}/"):
        assert requests.get(url, auth=operator_auth(), timeout=10).status_code == 200
    # payment_start above spoke the Debit protocol without basic auth; so does a status inquiry.
    assert escrow_services.bill_check(bill_id=bill.pk) == "0"
    assert requests.get(f"{live_server.url}/sandbox/keys/faspay-sandbox-public.pem", timeout=10).status_code == 200


def test_in_development_the_pages_stay_open(live_server, faspay, settings):  # noqa: F811
    settings.DEBUG = True
    assert requests.get(f"{live_server.url}/sandbox/control/", timeout=10).status_code == 200


def test_the_sandbox_refuses_to_run_with_debug_off_and_no_operator(settings):
    settings.DEBUG = False
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.FASPAY_SANDBOX_USERNAME = ""
    [error] = check_sandbox_operator_credentials()
    assert error.id == "sandbox.E002"
    settings.FASPAY_SANDBOX_USERNAME, settings.FASPAY_SANDBOX_PASSWORD = "operator", "short"
    [error] = check_sandbox_operator_credentials()
    assert error.id == "sandbox.E003"
    settings.FASPAY_SANDBOX_PASSWORD = "a-long-enough-password"
    assert check_sandbox_operator_credentials() == []
