"""The default fee schedule documented in transactions/fees.py and the README."""
from django.db import migrations

DEFAULT_TIERS = [
    # min, max, flat, basis points, minimum, maximum
    (10_000, 1_000_000, 5_000, 0, 0, None),
    (1_000_001, 5_000_000, 15_000, 0, 0, None),
    (5_000_001, 25_000_000, 0, 50, 25_000, None),
    (25_000_001, 100_000_000, 0, 40, 125_000, None),
    (100_000_001, None, 0, 30, 400_000, 2_500_000),
]


def create_tiers(apps, schema_editor):
    FeeTier = apps.get_model("transactions", "FeeTier")
    if FeeTier.objects.exists():
        return
    FeeTier.objects.bulk_create([
        FeeTier(min_amount=lo, max_amount=hi, flat_fee=flat, percent_basis_points=bp,
                minimum_fee=minimum, maximum_fee=maximum)
        for lo, hi, flat, bp, minimum, maximum in DEFAULT_TIERS
    ])


class Migration(migrations.Migration):
    dependencies = [("transactions", "0001_initial")]
    operations = [migrations.RunPython(create_tiers, migrations.RunPython.noop)]
