"""Two fee tiers never cover the same amount (PostgreSQL only).

An exclusion constraint over the inclusive range ``[min_amount, max_amount]`` of each tier (a NULL
``max_amount`` is an unbounded upper end): the database refuses an overlapping tier even when two
staff save at the same moment, which a check in Python alone cannot. ``int8range`` with ``&&`` is
indexed by GiST's built-in range operator class, so no extension (btree_gist) is needed: the
constraint compares no plain column by equality.

SQLite (the ``make run`` default) relies on the same check in ``transactions.fees.fee_tier_check``.
A schedule that already overlaps is reported instead of silently rewritten: staff must fix it.
"""
from django.db import migrations

CONSTRAINT = "fee_tier_ranges_do_not_overlap"

FORWARD = f"""
ALTER TABLE transactions_feetier ADD CONSTRAINT {CONSTRAINT}
    EXCLUDE USING gist (int8range(min_amount, max_amount, '[]') WITH &&);
"""
BACKWARD = f"ALTER TABLE transactions_feetier DROP CONSTRAINT IF EXISTS {CONSTRAINT};"


OVERLAPS = """
SELECT a.id, a.min_amount, a.max_amount, b.id, b.min_amount, b.max_amount
  FROM transactions_feetier a JOIN transactions_feetier b ON a.id < b.id
 WHERE int8range(a.min_amount, a.max_amount, '[]') && int8range(b.min_amount, b.max_amount, '[]')
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        pairs = cursor.fetchall()
    if pairs:
        raise RuntimeError("The fee schedule has overlapping tiers; fix them in the admin before migrating: "
                           + "; ".join(f"#{a} [{a_min}, {a_max or '∞'}] and #{b} [{b_min}, {b_max or '∞'}]"
                                       for a, a_min, a_max, b, b_min, b_max in pairs))
    schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("transactions", "0002_default_fee_schedule")]
    operations = [migrations.RunPython(forward, backward)]
