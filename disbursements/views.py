"""SendMe's callback: a hint that triggers a status inquiry (the inquiry decides).

What arrives is checked in this order, before anything is done, and every refusal is a SNAP
error in the 4xx class (never a 500): the body size; ``X-TIMESTAMP`` (well formed, and within
``SENDME_CALLBACK_TIMESTAMP_TOLERANCE_SECONDS`` of now, so an old callback cannot be replayed
later); the signature with Faspay's public key (a key that cannot be loaded is a configuration
error, logged, and the callback is refused like an unverifiable one); the body (one JSON object
naming a partner reference of ours). A replay within the window — the same signature, or the same
``X-EXTERNAL-ID`` — gets the same answer and triggers no second inquiry
(``disbursements.services.callback_receive``).
"""
import hashlib
import logging
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from faspay import keys, sendme, signing

from .services import callback_receive

logger = logging.getLogger(__name__)

# A callback is a few hundred bytes; SNAP signatures are base64 RSA (344 characters for 2048 bits).
MAX_CALLBACK_BYTES = 16 * 1024
MAX_SIGNATURE_LENGTH = 1024
MAX_TIMESTAMP_LENGTH = 40
EXTERNAL_ID = re.compile(r"[0-9A-Za-z\-]{1,64}")


def _answer(http_status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"responseCode": code, "responseMessage": message}, status=http_status)


def _bad_request(reason: str) -> JsonResponse:
    logger.warning("SendMe callback refused: %s", reason)
    return _answer(400, "4000000", "Bad Request")


def _unauthorized(message: str, reason: str) -> JsonResponse:
    logger.warning("SendMe callback refused: %s", reason)
    return _answer(401, "4010000", message)


def _body(request) -> bytes | None:
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > MAX_CALLBACK_BYTES:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= MAX_CALLBACK_BYTES else None


def _timestamp_problem(timestamp: str) -> str:
    if len(timestamp) > MAX_TIMESTAMP_LENGTH:
        return "X-TIMESTAMP too long"
    try:
        skew = abs((timezone.now() - signing.parse_snap_timestamp(timestamp)).total_seconds())
    except (ValueError, OverflowError):
        return "X-TIMESTAMP is not ISO-8601 with an offset"
    tolerance = settings.SENDME_CALLBACK_TIMESTAMP_TOLERANCE_SECONDS
    if skew > tolerance:
        return f"X-TIMESTAMP {timestamp!r} is more than {tolerance} s from now"
    return ""


def _signature_valid(request, body: bytes, timestamp: str, signature: str) -> bool | None:
    """``None`` when Faspay's public key cannot be loaded (a configuration error, logged)."""
    try:
        public_key = keys.faspay_public_key()
    except (ImproperlyConfigured, OSError, ValueError, TypeError):
        logger.error("SendMe callback cannot be verified: Faspay's public key is not usable "
                     "(SENDME_FASPAY_PUBLIC_KEY_PATH)", exc_info=True)
        return None
    return signing.verify_asymmetric(public_key, "POST", request.path, body, timestamp, signature)


@csrf_exempt
@require_POST
def sendme_callback(request):
    body = _body(request)
    if body is None:
        return _bad_request(f"body larger than {MAX_CALLBACK_BYTES} bytes")
    timestamp = request.headers.get("X-TIMESTAMP", "").strip()
    signature = request.headers.get("X-SIGNATURE", "").strip()
    if not (timestamp and signature) or len(signature) > MAX_SIGNATURE_LENGTH:
        return _unauthorized("Unauthorized. Signature", "missing or oversized X-TIMESTAMP/X-SIGNATURE")
    problem = _timestamp_problem(timestamp)
    if problem:
        return _unauthorized("Unauthorized. Timestamp", problem)
    valid = _signature_valid(request, body, timestamp, signature)
    if not valid:
        return _unauthorized("Unauthorized. Signature",
                             "Faspay's public key is not configured" if valid is None else "bad signature")
    try:
        reference = sendme.parse_callback(body).partner_reference_no
    except sendme.InvalidCallback as exc:
        return _bad_request(str(exc))
    replay_keys = [f"signature:{hashlib.sha256(signature.encode()).hexdigest()}"]
    external_id = request.headers.get("X-EXTERNAL-ID", "").strip()
    if EXTERNAL_ID.fullmatch(external_id):
        replay_keys.append(f"external-id:{external_id}")
    if not callback_receive(partner_reference_no=reference, replay_keys=replay_keys):
        return _answer(404, "4040001", "Transaction Not Found")
    return _answer(200, "2000000", "Successful")
