"""Print the demo staff account's current admin code (``make run`` demo data only).

The admin asks staff for a code from their authenticator app after the password
(``accounts.admin_site``). ``seed_demo`` gives the demo staff account (``staf@demo.intrasa.id``) an
authenticator; this command shows its current 6-digit code, and the key to add it to a real
authenticator app instead. It refuses any other account, and refuses to run with DEBUG off, so it
cannot become a way around a real staff member's second factor.
"""
import base64
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from escrow.management.commands.seed_demo import STAFF


class Command(BaseCommand):
    help = "Print the current admin code of the demo staff account (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_totp is for the make run demo only (DEBUG is off).")
        device = TOTPDevice.objects.filter(user__email=STAFF[0], confirmed=True).first()
        if device is None:
            raise CommandError(f"No demo staff authenticator: run `python manage.py seed_demo` first ({STAFF[0]}).")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        seconds_left = device.step - int(totp.time - device.t0) % device.step
        code = f"{totp.token():0{device.digits}d}"
        self.stdout.write(f"{STAFF[0]}: {code} (valid for {seconds_left} more seconds)")
        self.stdout.write(f"authenticator key (time-based, 6 digits): {base64.b32encode(device.bin_key).decode()}")
