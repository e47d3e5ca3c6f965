"""Verified bills are asked about only after a Faspay notification (``payments.services.bill_inquire``). Before,
a notification set ``next_check_at`` on a verified bill that no inquiry ever cleared; the poller now asks
about verified bills whose check is due, so those stale dates would send a burst of old inquiries to Faspay
on deploy. Nothing is pending for them: clear the dates."""
from django.db import migrations


def clear_stale_checks(apps, schema_editor):
    Bill = apps.get_model("payments", "Bill")
    Bill.objects.filter(status="verified").exclude(next_check_at=None).update(next_check_at=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_provider_reversal_booked")]
    operations = [migrations.RunPython(clear_stale_checks, migrations.RunPython.noop)]
