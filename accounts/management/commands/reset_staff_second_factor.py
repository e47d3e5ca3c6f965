"""Remove a staff member's authenticator and backup codes, e.g. after a lost phone.

For when no superuser can reach the admin (the superuser who lost their own phone); otherwise a
superuser uses the user admin's action "Reset the second factor". Recorded in the audit trail with
the reason. At their next admin login the staff member sets up a new authenticator.

    python manage.py reset_staff_second_factor dewi@intrasa.co.id --reason "phone lost, ticket 123"
"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import staff_second_factor_reset
from accounts.validators import canonical_email


class Command(BaseCommand):
    help = "Remove a staff member's authenticator app and backup codes (recorded in the audit trail)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--reason", required=True, help="why (recorded in the audit trail)")

    def handle(self, *args, email, reason, **options):
        try:
            user = User.objects.get(email__iexact=canonical_email(email))
        except User.DoesNotExist:
            raise CommandError(f"No user with the email address {email}.") from None
        if not user.is_staff:
            raise CommandError(f"{user.email} is not a staff account.")
        try:
            removed = staff_second_factor_reset(user=user, actor=None, reason=reason)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"{user.email}: second factor removed ({removed} rows); a new authenticator is "
                          "set up at the next admin login.")
