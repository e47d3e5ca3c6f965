"""SendMe's callback: a hint that triggers a status inquiry (the inquiry decides)."""
import json
import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from intrasa import snap

from .services import callback_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def sendme_callback(request):
    timestamp = request.headers.get("X-TIMESTAMP", "")
    signature = request.headers.get("X-SIGNATURE", "")
    if not (timestamp and signature and snap.verify_asymmetric(snap.faspay_public_key(), "POST", request.path,
                                                               request.body, timestamp, signature)):
        logger.warning("SendMe callback with a bad or missing signature")
        return JsonResponse({"responseCode": "4010000", "responseMessage": "Unauthorized. Signature"}, status=401)
    try:
        payload = json.loads(request.body.decode("utf-8"))
        reference = str(payload["originalPartnerReferenceNo"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return JsonResponse({"responseCode": "4000000", "responseMessage": "Bad Request"}, status=400)
    if not callback_receive(partner_reference_no=reference):
        return JsonResponse({"responseCode": "4040001", "responseMessage": "Transaction Not Found"}, status=404)
    return JsonResponse({"responseCode": "2000000", "responseMessage": "Successful"})
