from django.db import migrations

from transactions.page_cache import _on_postgresql

# The transaction page's per-request read (transactions.selectors.transaction_page_version_for_party) as a
# PL/pgSQL function: PostgreSQL plans its query once per connection and keeps the plan (re-planning by itself
# after a change to a table it reads), where the same statement sent by the client was parsed and planned on
# every request: ~90 µs of the database's time and ~70 µs of the web process's per page
# (benchmarks/README.md). Its result is checked against the ORM's counts in tests/transactions.
# The columns are cast to the declared types: PostgreSQL does not track what a function body reads, so a
# later migration changing a column's type must not turn every call into "structure of query does not match
# function result type" (tests/transactions/test_detail_page_cache.py changes them and calls it). A row is
# returned only to a party (the caller checks again): a stranger's 404 costs no count.
CREATE = """
CREATE OR REPLACE FUNCTION intrasa_transaction_page_version(p_user_id bigint, p_reference text)
RETURNS TABLE (transaction_id bigint, seller_id bigint, buyer_id bigint, page_changes bigint,
               party_changes bigint, unread_notifications bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT t.id::bigint, t.seller_id::bigint, t.buyer_id::bigint,
           (SELECT COUNT(*) FROM transactions_pagechange c WHERE c.escrow_transaction_id = t.id)::bigint,
           (SELECT COUNT(*) FROM transactions_pagechange c
             WHERE c.user_id = t.seller_id OR c.user_id = t.buyer_id)::bigint,
           (SELECT COUNT(*) FROM notifications_notification n
             WHERE n.read_at IS NULL AND n.recipient_id = p_user_id)::bigint
    FROM transactions_escrowtransaction t
    WHERE t.reference = p_reference AND p_user_id IN (t.seller_id, t.buyer_id);
END $$;
"""
DROP = "DROP FUNCTION IF EXISTS intrasa_transaction_page_version(bigint, text);"


class Migration(migrations.Migration):
    dependencies = [
        ('transactions', '0008_page_change_ignores_tracking_checks'),
        ('notifications', '0005_notification_email_to_send_index'),
    ]

    operations = [_on_postgresql(forward=[CREATE], backward=[DROP])]
