"""SendMe (SNAP) side of the sandbox, over real HTTP with the production signer."""
import time

import pytest

from faspay import keys, signing
from sandbox.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True)


def _code(response):
    return response.json()["responseCode"]


def test_account_inquiry_success_and_test_accounts(sendme):
    body = {"beneficiaryBankCode": "008", "beneficiaryAccountNo": "60004400184", "partnerReferenceNo": "INQ-1",
            "additionalInfo": {"sourceAccount": sendme.settings.SENDME_SOURCE_ACCOUNT}}
    response = sendme.call("account-inquiry-external", body)
    assert response.status_code == 200 and _code(response) == "2001600"
    data = response.json()
    assert data["beneficiaryAccountName"] and data["beneficiaryBankName"] == "BANK MANDIRI"
    assert data["additionalInfo"]["status"] == "1"
    assert "X-TIMESTAMP" in response.headers
    again = sendme.call("account-inquiry-external", body)
    assert again.json()["beneficiaryAccountName"] == data["beneficiaryAccountName"]  # deterministic

    other = sendme.call("account-inquiry-external", {**body, "beneficiaryAccountNo": "1212121212"})
    assert other.json()["beneficiaryAccountName"] == "PT NAMA LAIN SEKALI"
    invalid = sendme.call("account-inquiry-external", {**body, "beneficiaryAccountNo": "4040404040"})
    assert invalid.status_code == 404 and _code(invalid) == "4041611"
    malformed = sendme.call("account-inquiry-external", {**body, "beneficiaryAccountNo": "12ab"})
    assert _code(malformed) == "4001601"
    missing = sendme.call("account-inquiry-external", {"beneficiaryBankCode": "008"})
    assert _code(missing) == "4001602" and "beneficiaryAccountNo" in missing.json()["responseMessage"]


def test_header_checks(sendme, settings):
    body = sendme.transfer_body("HDR-1")
    wrong_signer = signing.AsymmetricSigner(private_key=keys.generate_key_pair().private_key)
    assert _code(sendme.call("transfer-interbank", body, signer=wrong_signer)) == "4011800"
    # the signed path must be the part after the base URL, with /account
    assert _code(sendme.call("transfer-interbank", body, path="/v1.0/transfer-interbank")) == "4011800"
    # the body that was signed must be the body that is sent
    tampered = signing.minify_body(body).replace(b"10000.00", b"10001.00")
    assert _code(sendme.call("transfer-interbank", body, raw_body=tampered)) == "4011800"
    stale = signing.snap_timestamp(signing.parse_snap_timestamp(signing.snap_timestamp()) - signing.dt.timedelta(minutes=6))
    request = signing.build_signed_request(sendme.signer, method="POST", path="/account/v1.0/transfer-interbank",
                                        body=body, partner_id="99999", channel_id="88001", timestamp=stale)
    response = sendme.session.post(f"{sendme.base_url}/sandbox/sendme/account/v1.0/transfer-interbank",
                                   data=request.body, headers=request.headers, timeout=10)
    assert response.status_code == 401 and _code(response) == "4011800"
    assert _code(sendme.call("transfer-interbank", body, headers={"X-PARTNER-ID": "11111"})) == "4011800"
    assert _code(sendme.call("transfer-interbank", body, headers={"X-EXTERNAL-ID": "abc"})) == "4001801"
    assert _code(sendme.call("transfer-interbank", body, headers={"X-TIMESTAMP": "yesterday"})) == "4001801"
    assert _code(sendme.call("transfer-interbank", body, headers={"CHANNEL-ID": ""})) == "4001802"
    # none of those created anything
    assert not Transfer.objects.exists()


def test_external_id_unique_per_day(sendme):
    first = sendme.call("balance-inquiry", {"accountNo": sendme.settings.SENDME_SOURCE_ACCOUNT},
                        headers={"X-EXTERNAL-ID": "20260612000001"})
    assert _code(first) == "2001100"
    again = sendme.call("balance-inquiry", {"accountNo": sendme.settings.SENDME_SOURCE_ACCOUNT},
                        headers={"X-EXTERNAL-ID": "20260612000001"})
    assert again.status_code == 409 and _code(again) == "4091100"


def test_transfer_idempotency_rules(sendme, control):
    control("config", settle_delay_seconds=0)
    accepted = sendme.call("transfer-interbank", sendme.transfer_body("PAY-1"))
    assert accepted.status_code == 200 and _code(accepted) == "2001800"
    data = accepted.json()
    assert data["amount"] == {"value": "10000.00", "currency": "IDR"}
    assert data["additionalInfo"]["latestTransactionStatus"] == "00"
    # same reference, same parameters (new X-EXTERNAL-ID): already processed
    duplicate = sendme.call("transfer-interbank", sendme.transfer_body("PAY-1"))
    assert duplicate.status_code == 409 and _code(duplicate) == "4091801"
    assert duplicate.json()["referenceNo"] == data["referenceNo"]
    # same reference, different parameters: inconsistent
    inconsistent = sendme.call("transfer-interbank", sendme.transfer_body("PAY-1", amount="10001.00"))
    assert inconsistent.status_code == 404 and _code(inconsistent) == "4041818"
    assert Transfer.objects.count() == 1
    assert control.state()["deposit"]["balance"] == 1_000_000_000 - 10_000


def test_a_failed_transfer_is_retried_under_the_same_reference(sendme, control, live_server, received):
    """Terms A / REFERENCE §2.1: after 06 Failed the same partnerReferenceNo may be sent again (the
    same transfer, attempted again); before that, and after success, it stays a duplicate."""
    control("config", settle_delay_seconds=0)
    control("fault", kind="transfer_fail", scope="sendme.transfer-interbank", count=1)
    callback = f"{live_server.url}/test-receiver/sendme/"
    body = sendme.transfer_body("RETRY-1", amount="250000.00", callback=callback)
    first = sendme.call("transfer-interbank", body)
    assert _code(first) == "2001800" and first.json()["additionalInfo"]["latestTransactionStatus"] == "06"
    assert control.state()["deposit"]["balance"] == 1_000_000_000  # the failure gave the money back
    # Another amount under the failed reference is still an inconsistent request, and changes nothing.
    other = sendme.call("transfer-interbank", sendme.transfer_body("RETRY-1", amount="250001.00", callback=callback))
    assert other.status_code == 404 and _code(other) == "4041818"
    again = sendme.call("transfer-interbank", body)
    assert again.status_code == 200 and _code(again) == "2001800"
    assert again.json()["referenceNo"] == first.json()["referenceNo"]
    assert again.json()["additionalInfo"]["latestTransactionStatus"] == "00"
    # Succeeded now: the same reference is a duplicate again, never a second payment.
    third = sendme.call("transfer-interbank", body)
    assert third.status_code == 409 and _code(third) == "4091801"
    [transfer] = Transfer.objects.all()
    assert transfer.status == "00" and transfer.attempts == 2
    assert control.state()["deposit"]["balance"] == 1_000_000_000 - 250_000
    assert sendme.transfer_status("RETRY-1").json()["latestTransactionStatus"] == "00"
    assert [(m["json"]["originalPartnerReferenceNo"], m["json"]["latestTransactionStatus"])
            for m in received["sendme"]] == [("RETRY-1", "06"), ("RETRY-1", "00")]


def test_only_a_failed_transfer_reopens(sendme, control):
    control("config", settle_delay_seconds=0)
    pending = sendme.transfer_body("ONLY-1", account="3030303030")
    assert sendme.call("transfer-interbank", pending).json()["additionalInfo"]["latestTransactionStatus"] == "03"
    assert _code(sendme.call("transfer-interbank", pending)) == "4091801"  # still in process: a duplicate
    # A failing account fails again on retry; each attempt is charged and refunded once.
    failing = sendme.topup_body("ONLY-2", number="081200000606")
    assert sendme.call("emoney/topup", failing).json()["additionalInfo"]["latestTransactionStatus"] == "06"
    retried = sendme.call("emoney/topup", failing)
    assert _code(retried) == "2003800" and retried.json()["additionalInfo"]["latestTransactionStatus"] == "06"
    assert Transfer.objects.get(partner_reference_no="ONLY-2").attempts == 2
    assert control.state()["deposit"]["balance"] == 1_000_000_000 - 10_000  # only the pending one holds money
    # A retry the deposit cannot carry is refused, and the transfer stays failed.
    control("balance", balance=0)
    short = sendme.call("emoney/topup", failing)
    assert short.status_code == 403 and _code(short) == "4033814"
    assert Transfer.objects.get(partner_reference_no="ONLY-2").status == "06"


def test_limits_and_balance(sendme, control):
    control("config", settle_delay_seconds=0)
    assert _code(sendme.call("transfer-interbank", sendme.transfer_body("LIM-1", amount="50000000.00"))) == "2001800"
    over = sendme.call("transfer-interbank", sendme.transfer_body("LIM-2", amount="50000001.00"))
    assert over.status_code == 403 and _code(over) == "4031802"
    assert _code(sendme.call("emoney/topup", sendme.topup_body("EW-1", amount="5000000.00"))) == "2003800"
    assert _code(sendme.call("emoney/topup", sendme.topup_body("EW-2", amount="5000001.00"))) == "4033802"
    assert _code(sendme.call("transfer-interbank", sendme.transfer_body("AMT-1", amount="10000"))) == "4001801"
    assert _code(sendme.call("transfer-interbank", sendme.transfer_body("AMT-2", amount="0.00"))) == "4041813"

    control("balance", balance=20_000)
    assert _code(sendme.call("transfer-interbank", sendme.transfer_body("BAL-1", amount="20000.00"))) == "2001800"
    short = sendme.call("transfer-interbank", sendme.transfer_body("BAL-2", amount="1.00"))
    assert short.status_code == 403 and _code(short) == "4031814"
    balance = sendme.call("balance-inquiry", {"accountNo": sendme.settings.SENDME_SOURCE_ACCOUNT})
    assert balance.json()["accountInfos"][0]["availableBalance"] == {"value": "0.00", "currency": "IDR"}
    history = sendme.call("transaction-history-list", {
        "fromDateTime": signing.snap_timestamp(signing.dt.datetime.now(signing.dt.timezone.utc) - signing.dt.timedelta(hours=1)),
        "toDateTime": signing.snap_timestamp(signing.dt.datetime.now(signing.dt.timezone.utc) + signing.dt.timedelta(hours=1)),
        "additionalInfo": {"accountNo": sendme.settings.SENDME_SOURCE_ACCOUNT}})
    assert _code(history) == "2001200"
    assert {d["additionalInfo"]["debitCredit"] for d in history.json()["detailData"]} == {"D"}


def test_status_progression_with_delay_and_callbacks(sendme, control, live_server, received):
    control("config", settle_delay_seconds=1)
    callback = f"{live_server.url}/test-receiver/sendme/"
    accepted = sendme.call("transfer-interbank", sendme.transfer_body("PROG-1", callback=callback)).json()
    assert accepted["additionalInfo"]["latestTransactionStatus"] == "03"
    status = sendme.transfer_status("PROG-1", accepted["referenceNo"])
    assert _code(status) == "2003600" and status.json()["latestTransactionStatus"] == "03"
    assert not received["sendme"]
    time.sleep(1.1)
    status = sendme.transfer_status("PROG-1", accepted["referenceNo"]).json()
    assert status["latestTransactionStatus"] == "00"
    assert status["amount"]["value"] == "10000.00"
    # the inquiry settled it and the callback went out, signed by the sandbox's key
    [message] = received["sendme"]
    assert message["json"]["latestTransactionStatus"] == "00"
    assert message["json"]["originalPartnerReferenceNo"] == "PROG-1"
    headers = message["headers"]
    assert signing.verify_asymmetric(keys.faspay_public_key(), "POST", "/test-receiver/sendme/", message["body"],
                                  headers["X-Timestamp"], headers["X-Signature"])
    assert message["body"] == signing.minify_body(message["json"])
    not_found = sendme.transfer_status("NOPE")
    assert not_found.status_code == 404 and _code(not_found) == "4043601"


def test_test_accounts_fail_pending_reverse(sendme, control, live_server, received):
    control("config", settle_delay_seconds=0, reverse_delay_seconds=0)
    callback = f"{live_server.url}/test-receiver/sendme/"
    failed = sendme.call("transfer-interbank", sendme.transfer_body("F-1", account="6060606060", callback=callback))
    assert failed.json()["additionalInfo"]["latestTransactionStatus"] == "06"
    pending = sendme.call("transfer-interbank", sendme.transfer_body("P-1", account="3030303030", callback=callback))
    assert pending.json()["additionalInfo"]["latestTransactionStatus"] == "03"
    reversed_ = sendme.call("transfer-interbank", sendme.transfer_body("R-1", account="4444444444", callback=callback))
    assert reversed_.json()["additionalInfo"]["latestTransactionStatus"] == "04"
    assert sendme.transfer_status("P-1").json()["latestTransactionStatus"] == "03"
    invalid = sendme.call("transfer-interbank", sendme.transfer_body("I-1", account="4040404040"))
    assert _code(invalid) == "4041811"
    statuses = [(m["json"]["originalPartnerReferenceNo"], m["json"]["latestTransactionStatus"])
                for m in received["sendme"]]
    assert statuses == [("F-1", "06"), ("R-1", "00"), ("R-1", "04")]
    # failed and reversed transfers are refunded; only the pending one holds money
    assert control.state()["deposit"]["balance"] == 1_000_000_000 - 10_000


def test_emoney_topup_and_status(sendme, control):
    control("config", settle_delay_seconds=0)
    response = sendme.call("emoney/topup", sendme.topup_body("EW-10"))
    assert _code(response) == "2003800"
    data = response.json()
    assert data["additionalInfo"]["latestTransactionStatus"] == "00"
    assert data["additionalInfo"]["platformName"] == "GoPay"
    status = sendme.call("emoney/topup-status", {"originalPartnerReferenceNo": "EW-10",
                                                 "originalReferenceNo": data["referenceNo"], "serviceCode": "38"})
    assert _code(status) == "2003900" and status.json()["latestTransactionStatus"] == "00"
    unregistered = sendme.call("emoney/topup", sendme.topup_body("EW-11", number="081200000404"))
    assert unregistered.status_code == 404 and _code(unregistered) == "4043811"
    failing = sendme.call("emoney/topup", sendme.topup_body("EW-12", number="081200000606"))
    assert failing.json()["additionalInfo"]["latestTransactionStatus"] == "06"


def test_callback_retried_until_receiver_answers(sendme, control, live_server, received, fail_next):
    control("config", settle_delay_seconds=0, callback_retry_seconds=0, callback_max_attempts=3)
    fail_next["sendme"] = 2
    sendme.call("transfer-interbank", sendme.transfer_body(
        "RETRY-1", callback=f"{live_server.url}/test-receiver/sendme/"))
    assert len(received["sendme"]) == 3
    [callback] = control.state()["callbacks"]
    assert callback["state"] == "delivered" and callback["attempts"] == 3


def test_callback_gives_up_after_max_attempts(sendme, control, live_server, received, fail_next):
    control("config", settle_delay_seconds=0, callback_retry_seconds=0, callback_max_attempts=3)
    fail_next["sendme"] = 10
    sendme.call("transfer-interbank", sendme.transfer_body(
        "RETRY-2", callback=f"{live_server.url}/test-receiver/sendme/"))
    assert len(received["sendme"]) == 3
    assert control.state()["callbacks"][0]["state"] == "failed"


def test_fault_http_500_and_504(sendme, control):
    control("config", settle_delay_seconds=0)
    control("fault", kind="http_500", scope="sendme.transfer-interbank", count=1)
    response = sendme.call("transfer-interbank", sendme.transfer_body("FLT-1"))
    assert response.status_code == 500 and _code(response) == "5001801"
    assert not Transfer.objects.exists()  # failed before processing
    # the fault was for one call only: the retry with the same reference goes through
    assert _code(sendme.call("transfer-interbank", sendme.transfer_body("FLT-1"))) == "2001800"

    control("fault", kind="http_504", scope="sendme.transfer-interbank", count=1, after_processing=True)
    unknown = sendme.call("transfer-interbank", sendme.transfer_body("FLT-2"))
    assert unknown.status_code == 504 and _code(unknown) == "5041800"
    # processed anyway: the status inquiry tells the truth, a resend is a duplicate
    assert sendme.transfer_status("FLT-2").json()["latestTransactionStatus"] == "00"
    assert _code(sendme.call("transfer-interbank", sendme.transfer_body("FLT-2"))) == "4091801"


def test_fault_timeout_and_latency(sendme, control):
    import requests

    control("fault", kind="timeout", scope="sendme.balance-inquiry", count=1, seconds=2)
    with pytest.raises(requests.Timeout):
        sendme.call("balance-inquiry", {}, timeout=0.5)
    control("fault", kind="latency", scope="sendme", count=1, seconds=0.5)
    started = time.monotonic()
    assert _code(sendme.call("balance-inquiry", {})) == "2001100"
    assert time.monotonic() - started >= 0.5
    time.sleep(1.6)  # let the hung request finish before the database is flushed


def test_callback_faults_drop_duplicate_delay_reorder(sendme, control, live_server, received):
    control("config", settle_delay_seconds=0)
    url = f"{live_server.url}/test-receiver/sendme/"
    control("fault", kind="callback_drop", count=1)
    sendme.call("transfer-interbank", sendme.transfer_body("CB-1", callback=url))
    assert received["sendme"] == []
    control("fault", kind="callback_duplicate", count=1)
    sendme.call("transfer-interbank", sendme.transfer_body("CB-2", callback=url))
    assert [m["json"]["originalPartnerReferenceNo"] for m in received["sendme"]] == ["CB-2", "CB-2"]
    received["sendme"].clear()
    control("fault", kind="callback_delay", count=1, seconds=0.5)
    sendme.call("transfer-interbank", sendme.transfer_body("CB-3", callback=url))
    assert received["sendme"] == []
    time.sleep(0.6)
    assert control("tick")["callbacks_attempted"] == 1
    assert [m["json"]["originalPartnerReferenceNo"] for m in received["sendme"]] == ["CB-3"]
    received["sendme"].clear()
    control("fault", kind="callback_reorder", count=1)
    sendme.call("transfer-interbank", sendme.transfer_body("CB-4", callback=url))
    sendme.call("transfer-interbank", sendme.transfer_body("CB-5", callback=url))
    assert [m["json"]["originalPartnerReferenceNo"] for m in received["sendme"]] == ["CB-5", "CB-4"]


def test_fault_ratio_and_reset(sendme, control):
    control("fault", kind="http_500", scope="sendme.balance-inquiry", ratio=1)
    assert sendme.call("balance-inquiry", {}).status_code == 500
    assert sendme.call("balance-inquiry", {}).status_code == 500
    control("reset")
    assert sendme.call("balance-inquiry", {}).status_code == 200
    assert control.state()["faults"] == []


def test_settle_by_periodic_sweep(sendme, control, live_server, received):
    from sandbox.tasks import sweep

    control("config", settle_delay_seconds=1)
    sendme.call("transfer-interbank", sendme.transfer_body(
        "SW-1", callback=f"{live_server.url}/test-receiver/sendme/"))
    time.sleep(1.1)
    assert sweep()["transfers_checked"] == 1
    assert [m["json"]["latestTransactionStatus"] for m in received["sendme"]] == ["00"]
