"""Post a journal entry with a plan the database keeps (PostgreSQL only): ``ledger_entry_post``.

``ledger.services.entry_post`` used to send one statement of six CTEs per entry. PostgreSQL planned
that statement anew every time (Django binds parameters on the client, so nothing is prepared), and
the planning cost more than the inserts: 0.4 of the 0.75 ms the statement took (issue 18). A
PL/pgSQL function keeps the plans of its statements for the life of the server process, so the
only statement planned per entry is the call itself. Unlike a client-side prepared statement it
needs no session state, so it is safe behind PgBouncer in transaction mode (README, "PostgreSQL").

What it does is what the statement did, in the same order, one statement per step, each by index:
insert the entry unless its idempotency key exists (then it returns no row and the service
compares the existing entry); find each line's account, creating the ones missing (the first entry
of a transaction creates its escrow hold); insert the postings in line order. A line whose account
a concurrent writer is creating and has not committed yet when the insert gives up is left out of
``posted_lines``; the service completes it. The balance and immutability triggers of migration
0002 are untouched: the balance is still checked at COMMIT.
"""
from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_entry_post(
    p_idempotency_key varchar, p_kind varchar, p_memo varchar, p_escrow_transaction bigint,
    p_reverses bigint, p_created_by bigint, p_posted_at timestamptz,
    p_category varchar[], p_side varchar[], p_amount bigint[], p_per_transaction boolean[],
    OUT posted_entry bigint, OUT posted_lines integer[]
) RETURNS record AS $$
DECLARE
    line integer;
    account bigint;
BEGIN
    INSERT INTO ledger_journalentry (idempotency_key, kind, memo, escrow_transaction_id, reverses_id,
                                     created_by_id, posted_at)
    VALUES (p_idempotency_key, p_kind, p_memo, p_escrow_transaction, p_reverses, p_created_by, p_posted_at)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO posted_entry;
    IF posted_entry IS NULL THEN
        RETURN;  -- the key is taken: the caller compares the existing entry with this one
    END IF;
    posted_lines := '{}';
    FOR line IN 1 .. cardinality(p_category) LOOP
        -- Two queries, not one with an OR, so that each finds its account through its unique index.
        IF p_per_transaction[line] THEN
            SELECT id INTO account FROM ledger_account
             WHERE category = p_category[line] AND escrow_transaction_id = p_escrow_transaction;
        ELSE
            SELECT id INTO account FROM ledger_account
             WHERE category = p_category[line] AND escrow_transaction_id IS NULL;
        END IF;
        IF account IS NULL THEN
            INSERT INTO ledger_account (category, escrow_transaction_id, created_at)
            VALUES (p_category[line], CASE WHEN p_per_transaction[line] THEN p_escrow_transaction END, p_posted_at)
            ON CONFLICT DO NOTHING
            RETURNING id INTO account;
        END IF;
        IF account IS NOT NULL THEN
            INSERT INTO ledger_posting (entry_id, account_id, side, amount)
            VALUES (posted_entry, account, p_side[line], p_amount[line]);
            posted_lines := posted_lines || (line - 1);
        END IF;
    END LOOP;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS ledger_entry_post(varchar, varchar, varchar, bigint, bigint, bigint, timestamptz,
                                          varchar[], varchar[], bigint[], boolean[]);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_return_shipping_paid")]
    operations = [migrations.RunPython(forward, backward)]
