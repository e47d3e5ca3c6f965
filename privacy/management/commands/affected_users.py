"""List the people affected by a personal-data breach, as CSV, for the notification duty.

UU PDP Pasal 46: within 3×24 hours of a breach, the people affected and the supervisory agency are
told in writing what was exposed, when and how, and what is being done. This command answers "who"
from what INTRASA records (see the breach playbook in README.md):

    python manage.py affected_users --operator dpo@intrasa.co.id --reason "laptop with DB dump stolen" \\
        --from 2026-06-01 --to 2026-06-03T18:00 --kind logins --ip 203.0.113.7 --output affected.csv

Kinds (repeat ``--kind``; default ``accounts``): every record kind that holds personal data and
existed during the window. For an erased account the contact is the identity kept after the
erasure, if the law kept one. Running it writes an audit row with the operator, the reason and the
filters: the list is itself personal data.
"""
import csv
import datetime as dt
import io
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import PayoutDestination
from audit.services import audit_record
from disputes.models import Evidence
from intrasa.wib import WIB
from notifications.models import Notification
from refunds.models import RefundDocument

from ... import purge, retention
from ...models import ErasureRecord, LoginRecord, PersonalDataExport, StaffAccessLog

KINDS = ("accounts", "logins", "staff-access", "evidence", "refund-documents", "payout-destinations",
         "data-exports", "notifications")
COLUMNS = ("account_id", "full_name", "email", "phone", "language", "erased", "record_kinds", "records")


def _moment(text: str, *, end: bool) -> dt.datetime:
    """A WIB date or date-time; a bare date means the start (or, for ``--to``, the end) of that day."""
    try:
        day = parse_date(text) if len(text) == 10 else None  # parse_datetime would read a date as midnight
        moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min) if day else parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"not a date or date-time: {text!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=WIB)


def affected(*, kinds, start, end, ip=None, staff=None) -> dict[int, dict[str, int]]:
    """``{user id: {kind: number of records}}`` for records of ``kinds`` that existed in the window."""
    found: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(kind, user_ids):
        for user_id in user_ids:
            if user_id is not None:
                found[user_id][kind] += 1

    user_model = get_user_model()
    if "accounts" in kinds:
        add("accounts", user_model.objects.filter(date_joined__lte=end, is_staff=False).values_list("pk", flat=True))
    if "logins" in kinds:
        logins = LoginRecord.objects.filter(at__gte=start, at__lte=end)
        if ip:
            logins = logins.filter(ip_address=ip)
        add("logins", logins.values_list("user_id", flat=True))
    if "staff-access" in kinds:
        accesses = StaffAccessLog.objects.filter(at__gte=start, at__lte=end)
        if staff:
            accesses = accesses.filter(staff__email__iexact=staff)
        add("staff-access", accesses.values_list("subject_id", flat=True))
    # Files and texts count if they were created before the window ended and their retention period
    # had not ended before it started (a purged file could not leak) — asked as the retention job asks
    # it, from the end of the transaction's last obligation.
    dispute_gone = retention.DISPUTE_CONVERSATIONS.cutoff(start)
    if "evidence" in kinds:
        add("evidence", Evidence.objects.filter(created_at__lte=end)
            .exclude(purge.disputes_past_their_period(dispute_gone, via="dispute__"))
            .values_list("uploaded_by_id", flat=True))
    refund_gone = retention.REFUND_DOCUMENTS.cutoff(start)
    if "refund-documents" in kinds:
        add("refund-documents", RefundDocument.objects.filter(created_at__lte=end, uploaded_by__isnull=False)
            .exclude(purge.refund_requests_past_their_period(refund_gone, via="request__"))
            .values_list("request__buyer_id", flat=True))
    if "payout-destinations" in kinds:
        add("payout-destinations", PayoutDestination.objects.filter(created_at__lte=end)
            .values_list("owner_id", flat=True))
    if "data-exports" in kinds:
        add("data-exports", PersonalDataExport.objects.filter(ready_at__lte=end, expires_at__gte=start)
            .values_list("user_id", flat=True))
    if "notifications" in kinds:
        add("notifications", Notification.objects.filter(
            created_at__lte=end, created_at__gt=retention.NOTIFICATIONS.cutoff(start))
            .values_list("recipient_id", flat=True))
    return found


class Command(BaseCommand):
    help = "CSV of the people affected by a personal-data breach (UU PDP Pasal 46: notify within 3×24 hours)."

    def add_arguments(self, parser):
        parser.add_argument("--operator", required=True, help="email of the staff member running this (audited)")
        parser.add_argument("--reason", required=True, help="why the list is needed (audited)")
        parser.add_argument("--from", dest="start", required=True, help="window start, WIB (2026-06-01 or 2026-06-01T08:00)")
        parser.add_argument("--to", dest="end", required=True, help="window end, WIB")
        parser.add_argument("--kind", action="append", choices=KINDS, help="record kinds exposed (repeatable)")
        parser.add_argument("--ip", help="logins: only from this IP address")
        parser.add_argument("--staff", help="staff-access: only accesses by this staff email")
        parser.add_argument("--output", help="CSV file to write (default: standard output)")

    def handle(self, *args, **options):
        operator = get_user_model().objects.filter(email__iexact=options["operator"], is_staff=True).first()
        if operator is None:
            raise CommandError("--operator must be the email address of a staff account")
        start, end = _moment(options["start"], end=False), _moment(options["end"], end=True)
        if end < start:
            raise CommandError("--to is before --from")
        kinds = tuple(options["kind"] or ("accounts",))
        found = affected(kinds=kinds, start=start, end=end, ip=options["ip"], staff=options["staff"])
        users = get_user_model().objects.in_bulk(list(found))
        erasures = {record.user_id: record for record in
                    ErasureRecord.objects.filter(user_id__in=found).select_related("identity")}
        rows = []
        for user_id in sorted(found):
            user, erasure = users[user_id], erasures.get(user_id)
            identity = getattr(erasure, "identity", None) if erasure else None
            if erasure is not None:
                name, email, phone = ((identity.full_name, identity.email, identity.phone) if identity
                                      else ("", "", ""))
            else:
                name, email, phone = user.full_name, user.email, user.phone
            kinds_found = found[user_id]
            rows.append({"account_id": user_id, "full_name": name, "email": email, "phone": phone,
                         "language": user.preferred_language, "erased": "yes" if erasure else "no",
                         "record_kinds": ";".join(sorted(kinds_found)), "records": sum(kinds_found.values())})
        with transaction.atomic():
            audit_record(actor=operator, action="privacy.affected_users_export", target=operator,
                         reason=options["reason"], data={
                             "from": start.isoformat(), "to": end.isoformat(), "kinds": list(kinds),
                             "ip": options["ip"] or "", "staff": options["staff"] or "", "people": len(rows)})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        if options["output"]:
            with open(options["output"], "w", newline="", encoding="utf-8") as target:
                target.write(buffer.getvalue())
        else:
            self.stdout.write(buffer.getvalue(), ending="")
        self.stderr.write(f"{len(rows)} people affected ({', '.join(kinds)}, {start.isoformat()} – {end.isoformat()})")
