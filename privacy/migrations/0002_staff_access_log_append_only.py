"""Make the database itself refuse edits to the staff access log (PostgreSQL only).

UPDATE is always refused. DELETE is refused unless the transaction declared itself the retention
job's purge of rows past their period (``SET LOCAL intrasa.retention_purge = 'on'`` in
``privacy.purge``): the admin, the shell or a bug cannot erase the traces of who looked at what.
TRUNCATE is left alone, like the ledger's triggers do: it is what the test suite's flush uses, and
only a database owner can run it.
SQLite (the ``make run`` default) relies on the model and queryset refusing the same.
"""
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION privacy_staff_access_log_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('intrasa.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the staff access log is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER privacy_staff_access_log_append_only BEFORE UPDATE OR DELETE ON privacy_staffaccesslog
    FOR EACH ROW EXECUTE FUNCTION privacy_staff_access_log_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS privacy_staff_access_log_append_only ON privacy_staffaccesslog;
DROP FUNCTION IF EXISTS privacy_staff_access_log_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
