"""HTTP face of the sandbox: the two Faspay protocols, the payment page, the control page/API.

Protocol views are CSRF-exempt (machines call them, as they call Faspay). Faults (latency,
timeout, 500, 504) are applied here, around the protocol handlers, so the handlers stay pure.
"""
import datetime as dt
import json
import logging

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from faspay import keys, signing

from . import catalogue, debit, faults, sendme, services, tracking
from .access import operator_required
from .models import Bill, Fault

logger = logging.getLogger(__name__)


# --- SendMe (SNAP) ---------------------------------------------------------------------------

def _snap_response(payload: dict, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["X-TIMESTAMP"] = signing.snap_timestamp()
    return response


def _snap_error(service_code: str, http_status: int, case: str, message: str, extra=None):
    payload = {"responseCode": sendme.response_code(http_status, service_code, case),
               "responseMessage": message, **(extra or {})}
    return _snap_response(payload, http_status)


@csrf_exempt
def sendme_endpoint(request, operation: str):
    handler = sendme.OPERATIONS.get(operation)
    if handler is None:
        raise Http404("unknown SendMe operation")
    service_code = sendme.SERVICE_CODES[operation]
    if request.method != "POST":
        return _snap_error(service_code, 405, "00", "Requested Function Is Not Supported")
    fault = faults.take(f"sendme.{operation}", faults.HTTP_KINDS)

    def process():
        try:
            body = sendme.authenticate(method=request.method, operation=operation,
                                       headers=request.headers, raw_body=request.body)
            result = handler(body)
        except sendme.SnapError as error:
            return _snap_error(service_code, error.http_status, error.case, error.message, error.extra)
        return _snap_response({"responseCode": sendme.response_code(200, service_code, "00"),
                               "responseMessage": "Successful", **result}, 200)

    return _with_fault(fault, process, lambda status: _snap_error(
        service_code, status, "01" if status == 500 else "00",
        {504: "Timeout", 429: "Too Many Requests"}.get(status, "Internal Server Error")))


def _with_fault(fault, process, error_response):
    if fault is None:
        return process()
    if fault.kind == Fault.Kind.LATENCY:
        faults.sleep_without_connection(fault.seconds)
        return process()
    if fault.after_processing and fault.kind != Fault.Kind.HTTP_429:  # a 429 is never processed
        process()
    if fault.kind == Fault.Kind.TIMEOUT:
        faults.sleep_without_connection(fault.seconds)
        return error_response(504)
    return error_response(faults.HTTP_STATUS[fault.kind])


# --- Faspay Debit (legacy JSON) --------------------------------------------------------------

def _debit_view(operation: str, handler):
    @csrf_exempt
    def view(request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        fault = faults.take(f"debit.{operation}", faults.HTTP_KINDS)

        def process():
            try:
                payload = json.loads(request.body.decode("utf-8"))
                if not isinstance(payload, dict):
                    raise ValueError
            except (UnicodeDecodeError, ValueError):
                return JsonResponse({"response_code": "30", "response_desc": "Format Error: body is not JSON"})
            return JsonResponse(handler(request, payload), json_dumps_params={"ensure_ascii": False})

        return _with_fault(fault, process, lambda status: JsonResponse(
            {"response_code": "66" if status == 500 else "96",
             "response_desc": {500: "Internal Error", 429: "Too Many Requests"}.get(
                 status, "System Malfunction (timeout)")},
            status=status))

    view.__name__ = f"debit_{operation}"
    return view


def _payment_page_url(request):
    return lambda trx_id: request.build_absolute_uri(reverse("sandbox:payment_page", args=[trx_id]))


debit_post_data = _debit_view("post", lambda request, payload: debit.post_data(
    payload, payment_page_url=_payment_page_url(request)))
debit_inquiry = _debit_view("inquiry", lambda request, payload: debit.inquiry(payload))
debit_cancel = _debit_view("cancel", lambda request, payload: debit.cancel(payload))


@operator_required
def payment_page(request, trx_id: str):
    bill = Bill.objects.filter(trx_id=trx_id).first()
    if bill is None:
        raise Http404("no such bill")
    if request.method == "POST":
        action = request.POST.get("action", "")
        amount = None
        if action == "pay_wrong_amount":
            try:
                amount = int(request.POST.get("amount", "").strip())
            except ValueError:
                messages.error(request, "Enter the amount as a whole number (bill_total units).")
                return redirect("sandbox:payment_page", trx_id=trx_id)
        try:
            debit.bill_act(trx_id=trx_id, action=action, amount=amount)
            messages.success(request, f"Done: {action.replace('_', ' ')}. The notification is on its way.")
        except debit.BillActionError as error:
            messages.error(request, str(error))
        return redirect("sandbox:payment_page", trx_id=trx_id)
    status = debit.current_status(bill)
    return render(request, "sandbox/payment_page.html", {
        "bill": bill,
        "status": status,
        "status_desc": catalogue.PAYMENT_STATUS[status],
        "channel": catalogue.PAYMENT_CHANNELS[bill.payment_channel],
        "rupiah": debit.to_rupiah(bill.bill_total),
        "notification_url": bill.notification_url or debit.default_notification_url(),
        "callbacks": bill.callback_set.order_by("-created_at")[:10],
    })


# --- control page and API --------------------------------------------------------------------

def _optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


def _run_action(data: dict):
    """One control action from a form or JSON; returns something JSON-serialisable."""
    action = data.get("action", "")
    if action == "reset":
        services.sandbox_reset()
        return {"reset": True}
    if action == "config":
        values = {key: data[key] for key in services.CONFIG_FIELDS if key in data}
        config = services.config_update(**values)
        return {field: getattr(config, field) for field in services.CONFIG_FIELDS}
    if action == "balance":
        account = services.deposit_set_balance(balance=_optional_int(data.get("balance")),
                                               delta=_optional_int(data.get("delta")))
        return {"balance": account.balance}
    if action == "fault":
        fault = services.fault_add(
            kind=data.get("kind", ""), scope=data.get("scope", ""), count=_optional_int(data.get("count")),
            ratio=float(data.get("ratio") or 1), seconds=float(data.get("seconds") or 0),
            after_processing=str(data.get("after_processing", "")).lower() in ("1", "true", "on", "yes"))
        return {"fault_id": fault.pk}
    if action == "account_register":
        from .models import RegisteredAccount

        account, _ = RegisteredAccount.objects.update_or_create(
            number=str(data.get("number", "")), defaults={"holder_name": str(data.get("holder_name", ""))[:100]})
        return {"number": account.number, "holder_name": account.holder_name}
    if action == "tracking_script":
        shipment = tracking.shipment_script(courier=str(data.get("courier", "")),
                                            receipt_number=str(data.get("receipt_number", "")),
                                            events=data.get("events"))
        return {"courier": shipment.courier, "receipt_number": shipment.receipt_number, "events": shipment.events}
    if action == "tracking_deliver":
        at = dt.datetime.fromisoformat(data["at"]) if data.get("at") else None
        shipment = tracking.shipment_deliver(courier=str(data.get("courier", "")),
                                             receipt_number=str(data.get("receipt_number", "")), at=at)
        return {"courier": shipment.courier, "receipt_number": shipment.receipt_number, "events": shipment.events}
    if action == "clear_faults":
        return {"cleared": services.faults_clear()}
    if action == "tick":
        return services.sandbox_tick()
    if action.startswith("bill_"):
        bill_action = action.removeprefix("bill_")
        trx_id = str(data.get("trx_id", ""))
        if bill_action == "notification_url":
            debit.bill_set_notification_url(trx_id=trx_id, url=str(data.get("url", "")))
            return {"trx_id": trx_id}
        if bill_action == "notification_format":
            bill = debit.bill_set_notification_format(trx_id=trx_id, fmt=str(data.get("format", "")))
            return {"trx_id": trx_id, "format": bill.notification_format}
        bill = debit.bill_act(trx_id=trx_id, action=bill_action, amount=_optional_int(data.get("amount")))
        return {"trx_id": bill.trx_id, "status": bill.status_code}
    raise services.ControlError(f"unknown action {action!r}")


CONTROL_ERRORS = (services.ControlError, debit.BillActionError, ValueError, TypeError)


@csrf_exempt
@operator_required
def control_api(request):
    """GET: the sandbox state as JSON. POST ``{"action": ..., ...}``: run one control action."""
    if request.method == "GET":
        return JsonResponse(services.sandbox_state())
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        data = json.loads(request.body.decode("utf-8") or "{}")
        if not isinstance(data, dict):
            raise ValueError("send a JSON object")
        return JsonResponse({"ok": True, "result": _run_action(data)})
    except CONTROL_ERRORS as error:
        return JsonResponse({"ok": False, "error": str(error)}, status=400)


@operator_required
def control_page(request):
    if request.method == "POST":
        try:
            result = _run_action(request.POST.dict())
            messages.success(request, f"{request.POST.get('action')}: {json.dumps(result)}")
        except CONTROL_ERRORS as error:
            messages.error(request, str(error))
        return redirect("sandbox:control")
    return render(request, "sandbox/control.html", {
        "state": services.sandbox_state(),
        "bank_accounts": catalogue.BANK_TEST_ACCOUNTS.values(),
        "ewallet_accounts": catalogue.EWALLET_TEST_ACCOUNTS.values(),
        "fault_kinds": Fault.Kind.choices,
        "config_fields": services.CONFIG_FIELDS,
    })


def faspay_public_key(request):
    """The sandbox's public key (verifies its SendMe callbacks)."""
    pem = keys.dev_key_pair(keys.FASPAY_SANDBOX_KEY_NAME).public_pem
    return HttpResponse(pem, content_type="application/x-pem-file")


# --- courier tracking (sandbox.tracking) ------------------------------------------------------

def tracking_track(request):
    """``GET /sandbox/tracking/v1/track?courier=…&awb=…``: the parcel's courier events so far."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    courier, awb = request.GET.get("courier", "")[:20], request.GET.get("awb", "")[:50]
    if not courier or not awb:
        return JsonResponse({"error": "courier and awb are required"}, status=400)
    shipment = tracking.shipment_get(courier=courier, receipt_number=awb)
    return JsonResponse({"courier": courier, "awb": awb, "events": tracking.events_due(shipment)})
