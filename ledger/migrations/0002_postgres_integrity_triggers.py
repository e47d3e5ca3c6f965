"""Make the database itself refuse unbalanced or edited books (PostgreSQL only).

* A deferred constraint trigger checks, at COMMIT, that every journal entry touched by the
  transaction has at least two postings and that its debits equal its credits.
* Row triggers refuse UPDATE and DELETE of entries and postings: corrections are reversing entries.

SQLite (the ``make run`` default) relies on the same checks in ``ledger.services``.
"""
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_entry_must_balance() RETURNS trigger AS $$
DECLARE
    net bigint;
    lines integer;
BEGIN
    SELECT COALESCE(SUM(CASE WHEN side = 'D' THEN amount ELSE -amount END), 0), COUNT(*)
      INTO net, lines
      FROM ledger_posting WHERE entry_id = NEW.entry_id;
    IF lines < 2 OR net <> 0 THEN
        RAISE EXCEPTION 'ledger entry % does not balance (net %, % postings)', NEW.entry_id, net, lines
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_posting_balanced
    AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();

CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable (% on %); post a reversing entry', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_posting_immutable BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_journalentry_immutable BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledger_journalentry_immutable ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_immutable ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_entry_must_balance();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
