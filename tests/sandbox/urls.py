"""INTRASA's URLs plus a tiny recording receiver for sandbox callbacks and notifications."""
import json
import threading
from collections import defaultdict

from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from intrasa.urls import urlpatterns as intrasa_urlpatterns

RECEIVED: dict[str, list] = defaultdict(list)
FAIL_NEXT: dict[str, int] = defaultdict(int)
_lock = threading.Lock()


def reset_receiver():
    with _lock:
        RECEIVED.clear()
        FAIL_NEXT.clear()


@csrf_exempt
def receiver(request, name):
    with _lock:
        RECEIVED[name].append({"path": request.path, "headers": dict(request.headers), "body": request.body,
                               "json": json.loads(request.body or b"null")})
        failing = FAIL_NEXT[name] > 0
        if failing:
            FAIL_NEXT[name] -= 1
    if failing:
        return HttpResponse("receiver down", status=500)
    if name.startswith("debit"):
        return JsonResponse({"response": "Payment Notification", "response_code": "00", "response_desc": "Success"})
    return JsonResponse({"responseCode": "2000000", "responseMessage": "Successful"})


@csrf_exempt
def rejecting_receiver(request, name):
    """Answers 200 but not the documented OK body, so Faspay would retry."""
    RECEIVED[name].append({"json": json.loads(request.body or b"null")})
    return JsonResponse({"response_code": "99"})


urlpatterns = [
    path("test-receiver/<str:name>/", receiver, name="test_receiver"),
    path("test-rejecting-receiver/<str:name>/", rejecting_receiver),
    *intrasa_urlpatterns,
]
