"""Faspay Debit side of the sandbox: bills, payment page, notifications, over real HTTP."""
import datetime as dt
import re

import pytest
import requests

from faspay import signing
from intrasa.wib import WIB
from tests.sandbox_control import operator_auth

pytestmark = pytest.mark.django_db(transaction=True)


def _in(days=1):
    return (dt.datetime.now(WIB) + dt.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def notify_to(control, live_server):
    url = f"{live_server.url}/test-receiver/debit/"
    control("config", notification_url=url, callback_retry_seconds=0)
    return url


@pytest.mark.parametrize("channel,kind", [("702", "va"), ("800", "va"), ("801", "va"), ("802", "va"),
                                          ("402", "va"), ("706", "retail"), ("707", "retail"),
                                          ("711", "qris"), ("715", "qris")])
def test_post_data_per_channel(debit, channel, kind):
    response = debit.create_bill(f"INV-{channel}", channel=channel, expired=_in(1))
    assert response.status_code == 200
    data = response.json()
    assert data["response_code"] == "00", data
    assert re.fullmatch(r"\d{16}", data["trx_id"])
    assert data["redirect_url"].endswith(f"/sandbox/debit/pay/{data['trx_id']}/")
    assert ("qr_content" in data) == (kind == "qris")
    if kind == "qris":
        assert data["qr_content"].startswith("000201") and "6304" in data["qr_content"]


def test_post_data_errors(debit, settings):
    assert debit.create_bill("E-1", signature="0" * 40).json()["response_code"] == "55"
    assert debit.create_bill("E-2", merchant_id="12345").json()["response_code"] == "03"
    assert debit.create_bill("E-3", channel="999").json()["response_code"] == "30"
    assert debit.create_bill("E-4", total="abc").json()["response_code"] == "13"
    assert debit.create_bill("E-5", expired=_in(31)).json()["response_code"] == "30"
    assert debit.create_bill("E-6", expired=_in(-1)).json()["response_code"] == "54"
    assert debit.create_bill("E-7", expired=_in(30)).json()["response_code"] == "00"
    # re-posting the same bill returns the same trx_id; other data under the same bill_no is refused
    first = debit.create_bill("E-8").json()
    assert debit.create_bill("E-8").json()["trx_id"] == first["trx_id"]
    assert debit.create_bill("E-8", total="1").json()["response_code"] == "14"


def test_pay_in_full_notifies_with_valid_signature(debit, control, notify_to, received, settings, live_server):
    bill = debit.create_bill("INV-100", total="150000", expired=_in(1)).json()
    page = requests.get(bill["redirect_url"], timeout=10, auth=operator_auth())
    assert page.status_code == 200
    assert bill["trx_id"] in page.text
    assert "Budi &lt;b&gt;Pembeli&lt;/b&gt;" in page.text  # escaped
    inquiry = debit.post(100004, {"request": "Inquiry", "trx_id": bill["trx_id"], "merchant_id": "99999",
                                  "bill_no": "INV-100", "signature": debit.signature("INV-100")}).json()
    assert inquiry["payment_status_code"] == "0"

    control("bill_pay", trx_id=bill["trx_id"])
    [message] = received["debit"]
    body = message["json"]
    assert body["request"] == "Payment Notification"
    assert body["payment_status_code"] == "2" and body["bill_total"] == body["payment_total"] == "150000"
    assert body["payment_channel_uid"] == "702"
    assert signing.signatures_match(signing.debit_notification_signature(
        settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD, "INV-100", "2"), body["signature"])
    inquiry = debit.post(100004, {"request": "Inquiry", "trx_id": bill["trx_id"], "merchant_id": "99999",
                                  "bill_no": "INV-100", "signature": debit.signature("INV-100")}).json()
    assert inquiry["payment_status_code"] == "2" and inquiry["payment_reff"]
    assert debit.create_bill("INV-100").json()["response_code"] == "81"


def test_payment_page_forms_work_without_js(debit, notify_to, received, live_server):
    bill = debit.create_bill("INV-200", total="150000").json()
    browser = requests.Session()
    browser.auth = operator_auth()
    page = browser.get(bill["redirect_url"], timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    headers = {"Referer": bill["redirect_url"]}
    after = browser.post(bill["redirect_url"], data={"csrfmiddlewaretoken": token, "action": "pay_wrong_amount",
                                                     "amount": "100000"}, headers=headers, timeout=10)
    assert after.status_code == 200 and "Payment Success" in after.text
    assert received["debit"][-1]["json"]["payment_total"] == "100000"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', after.text).group(1)
    browser.post(bill["redirect_url"], data={"csrfmiddlewaretoken": token, "action": "reverse"},
                 headers=headers, timeout=10)
    assert received["debit"][-1]["json"]["payment_status_code"] == "4"


def test_expire_fail_and_cancel(debit, control, notify_to, received):
    expiring = debit.create_bill("INV-300").json()
    control("bill_expire", trx_id=expiring["trx_id"])
    assert received["debit"][-1]["json"]["payment_status_code"] == "7"
    failing = debit.create_bill("INV-301").json()
    control("bill_fail", trx_id=failing["trx_id"])
    assert received["debit"][-1]["json"]["payment_status_code"] == "3"
    cancelled = debit.create_bill("INV-302").json()
    answer = debit.post(100005, {"request": "Cancel", "trx_id": cancelled["trx_id"], "merchant_id": "99999",
                                 "merchant": "INTRASA", "bill_no": "INV-302", "payment_cancel": "buyer left",
                                 "signature": debit.signature("INV-302")}).json()
    assert answer["response_code"] == "00" and answer["trx_status_code"] == "8"
    response = requests.post(f"{control.url}", json={"action": "bill_pay", "trx_id": cancelled["trx_id"]}, timeout=10,
                             auth=operator_auth())
    assert response.status_code == 400
    unknown = debit.post(100004, {"request": "Inquiry", "trx_id": "", "merchant_id": "99999", "bill_no": "NOPE",
                                  "signature": debit.signature("NOPE")}).json()
    assert unknown["payment_status_code"] == "5"


def test_notification_retried_until_documented_ok(debit, control, live_server, received, fail_next):
    control("config", callback_retry_seconds=0, callback_max_attempts=3)
    bill = debit.create_bill("INV-400", sandbox_notification_url=f"{live_server.url}/test-receiver/debit/").json()
    fail_next["debit"] = 2
    control("bill_pay", trx_id=bill["trx_id"])
    assert len(received["debit"]) == 3
    assert control.state()["callbacks"][0]["state"] == "delivered"

    other = debit.create_bill("INV-401").json()
    control("bill_notification_url", trx_id=other["trx_id"], url=f"{live_server.url}/test-rejecting-receiver/rej/")
    control("bill_pay", trx_id=other["trx_id"])
    assert len(received["rej"]) == 3  # 200 without response_code 00 is not an OK
    assert control.state()["callbacks"][0]["state"] == "failed"


def test_debit_fault_500(debit, control):
    control("fault", kind="http_500", scope="debit.post", count=1)
    response = debit.create_bill("INV-500")
    assert response.status_code == 500 and response.json()["response_code"] == "66"
    assert debit.create_bill("INV-500").json()["response_code"] == "00"


def test_control_page_renders_and_escapes(live_server, control):
    control("fault", kind="latency", scope="<script>alert(1)</script>", count=1)
    page = requests.get(f"{live_server.url}/sandbox/control/", timeout=10, auth=operator_auth())
    assert page.status_code == 200
    assert "4040404040" in page.text and "081200000404" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert requests.get(f"{live_server.url}/sandbox/keys/faspay-sandbox-public.pem", timeout=10).text.startswith(
        "-----BEGIN PUBLIC KEY-----")
