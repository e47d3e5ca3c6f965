"""The API's reads cost a constant number of queries, however many rows a page holds."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.partners.conftest import post_json, terms


def _queries(client, setup, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, **setup.headers()).status_code == 200
    return len(captured.captured_queries)


def test_list_and_detail_cost_the_same_with_more_rows(client, setup, settings):
    settings.INTRASA_INVITATIONS_PER_DAY = 50
    post_json(client, "/api/v1/transactions", terms(setup), setup, key="k-0")
    one_list = _queries(client, setup, "/api/v1/transactions")
    reference = client.get("/api/v1/transactions", **setup.headers()).json()["items"][0]["reference"]
    one_timeline = _queries(client, setup, f"/api/v1/transactions/{reference}/timeline")
    for n in range(1, 8):
        post_json(client, "/api/v1/transactions", terms(setup, title=f"Barang {n}"), setup, key=f"k-{n}")
    post_json(client, f"/api/v1/transactions/{reference}/cancel", {"reason": "stok habis"}, setup, key="c")
    assert _queries(client, setup, "/api/v1/transactions") == one_list
    assert _queries(client, setup, f"/api/v1/transactions/{reference}/timeline") == one_timeline
    assert one_list <= 4, one_list  # the key, its last use, the page (the rate limit is Redis)
