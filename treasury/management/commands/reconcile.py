import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from intrasa.wib import now_wib
from treasury.reconciliation import reconcile_day


class Command(BaseCommand):
    help = ("Compare one WIB day's bills and disbursements with Faspay and SendMe and record every "
            "difference as a reconciliation item. Changes no money.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the WIB day, YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, **options):
        try:
            day = dt.date.fromisoformat(options["date"]) if options["date"] else now_wib().date() - dt.timedelta(days=1)
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD") from None
        report = reconcile_day(day=day)
        for item in report.items:
            self.stdout.write(f"{item.source} {item.reference}: {item.code}")
        self.stdout.write(f"{day}: {report.bills_checked} bills, {report.disbursements_checked} disbursements, "
                          f"{report.mutations_checked} mutations checked; {report.differences} difference(s)")
