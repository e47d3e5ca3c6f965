from django.core.management.base import BaseCommand, CommandError

from ledger.checks import ledger_breaches


class Command(BaseCommand):
    help = "Prove the ledger invariants (DESIGN.md §4.3); exits non-zero on any breach."

    def handle(self, *args, **options):
        breaches = ledger_breaches()
        if breaches:
            for breach in breaches:
                self.stderr.write(str(breach))
            raise CommandError(f"ledger check failed: {len(breaches)} breach(es)")
        self.stdout.write(self.style.SUCCESS("ledger check passed"))
