from django.db import migrations

from transactions.page_cache import _on_postgresql

# The transaction page's per-request read (migration 0009) counts the viewer's unread notifications only
# as far as the header's badge shows them: 100 rows, shown as "99+" (notifications.selectors,
# BADGE_COUNTS_UP_TO + 1; tests/transactions/test_detail_page_cache.py checks the two agree past it). A
# count of every unread row made each page cost more the more notifications someone left unread.
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
           (SELECT COUNT(*) FROM (SELECT 1 FROM notifications_notification n
                                   WHERE n.read_at IS NULL AND n.recipient_id = p_user_id LIMIT 100) AS unread)::bigint
    FROM transactions_escrowtransaction t
    WHERE t.reference = p_reference AND p_user_id IN (t.seller_id, t.buyer_id);
END $$;
"""


def _previous():
    from importlib import import_module

    return import_module("transactions.migrations.0009_page_version_function").CREATE


class Migration(migrations.Migration):
    dependencies = [
        ('transactions', '0009_page_version_function'),
    ]

    operations = [_on_postgresql(forward=[CREATE], backward=[_previous()])]
