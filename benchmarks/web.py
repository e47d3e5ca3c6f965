"""Web: requests per second and p50/p99 of Cek Transaksi (HTML and JSON) and of the transaction
detail page, next to a bare Django view on the same gunicorn in the same run.

The figure that matters is each page's share of the bare view's throughput: the machine, the load
generator and gunicorn cancel out; what is left is what the page costs.

Two more reference views (``benchmarks/urls.py``) measure the floor under each page: the bare view
plus Cek Transaksi's exact rate-limit count (one Redis round trip), and the bare view logged in
(session + user). "÷ its floor" is what the page costs on top of what it cannot skip.
"""
from django.conf import settings
from django.test import Client

from . import loadgen
from .harness import Server, Table, counting

SECTION = "web"
SECONDS = 10
CONNECTIONS = 6
WORKERS = 3  # production's gunicorn command (Dockerfile)
LIMITED = "bare view + the exact rate-limit count (/bench/limited/)"
LOGGED_IN = "bare view, logged in (/bench/logged-in/)"
PAGE = "Cek Transaksi page (/cek-transaksi/?reference=…)"
JSON = "Cek Transaksi JSON (/api/cek-transaksi/<ref>/)"
DETAIL = "transaction detail, logged in (/transaksi/<ref>/)"


def _per_request(paths: list[str], *, user=None) -> tuple[str, set[int]]:
    """What one request of each path costs in-process: SQL queries and Redis round trips, on a
    first pass over the paths (cold: nothing of theirs is cached) and on a second one (warm)."""
    import redis

    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1")
    if user is not None:
        client.force_login(user)
    statuses, passes = set(), []
    original = redis.connection.Connection.send_packed_command
    trips = []

    def counting_send(self, *args, **kwargs):
        trips.append(1)
        return original(self, *args, **kwargs)

    redis.connection.Connection.send_packed_command = counting_send
    try:
        for _pass in ("cold", "warm"):
            queries, round_trips = [], []
            for path in paths:
                trips.clear()
                with counting() as c:
                    response = client.get(path)
                statuses.add(response.status_code)
                queries.append(c.queries)
                round_trips.append(len(trips))
            passes.append((queries, round_trips))
    finally:
        redis.connection.Connection.send_packed_command = original

    def span(values):
        return f"{min(values)}" if min(values) == max(values) else f"{min(values)}–{max(values)}"

    (cold_q, cold_r), (warm_q, warm_r) = passes
    if (cold_q, cold_r) == (warm_q, warm_r):
        return f"{span(warm_q)} SQL + {span(warm_r)} Redis round trips/request", statuses
    return (f"cached: {span(warm_q)} SQL + {span(warm_r)} Redis round trips/request "
            f"(first look-up: {span(cold_q)} SQL + {span(cold_r)} Redis)"), statuses


def _browser_cookies(user) -> str:
    """The cookies a logged-in browser sends: its session, and the CSRF cookie it got with its first page
    (without it every page that shows a form would make a new CSRF secret and set the cookie again)."""
    from django.middleware.csrf import _get_new_csrf_string

    return (f"{settings.SESSION_COOKIE_NAME}={_session_cookie(user)}; "
            f"{settings.CSRF_COOKIE_NAME}={_get_new_csrf_string()}")


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def run(table: Table, pairs, txns, server: Server) -> None:
    references = [t.reference for t in txns]
    me = pairs[0].seller
    mine = [t.reference for t in txns if t.seller_id == me.pk]
    targets = [
        ("bare Django view (/bench/bare/)", ["/bench/bare/"], None),
        (LIMITED, ["/bench/limited/"], None),
        (LOGGED_IN, ["/bench/logged-in/"], me),
        (PAGE, [f"/cek-transaksi/?reference={r}" for r in references], None),
        (JSON, [f"/api/cek-transaksi/{r}/" for r in references], None),
        (DETAIL, [f"/transaksi/{r}/" for r in mine], me),
    ]
    tool = "wrk" if loadgen.wrk_available() else "Python threads"
    print(f"\n== web: {len(txns)} transactions; load: {tool}, {CONNECTIONS} connections, {SECONDS} s per page",
          flush=True)
    measured = {}
    if True:  # the caller's server (sync ×WORKERS), shared with the soak
        for label, paths, user in targets:
            costs, statuses = _per_request(paths[:40], user=user)
            if statuses != {200}:
                raise RuntimeError(f"{label}: expected 200 from every path, got {sorted(statuses)}")
            headers = {"Cookie": _browser_cookies(user)} if user else {}
            result = loadgen.run(server.url, paths, seconds=SECONDS, connections=CONNECTIONS, headers=headers)
            if result.errors:
                raise RuntimeError(f"{label}: {result.errors} failed requests under load")
            measured[label] = result
            table.add(SECTION, f"{label}: req/s", f"{result.rps:,.0f}",
                      f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms; {costs}; "
                      f"{server.description}, {result.tool} c={CONNECTIONS}, {result.requests:,} requests")
    bare = measured[targets[0][0]].rps
    for label, _paths, _user in targets[1:]:
        short = label.split(" (")[0]
        table.add(SECTION, f"{short} ÷ bare view (throughput)", f"{measured[label].rps / bare:.2f}",
                  f"{bare / measured[label].rps:.1f}× the cost of the bare view")
    for label, floor in ((PAGE, LIMITED), (JSON, LIMITED), (DETAIL, LOGGED_IN)):
        short, floor_short = label.split(" (")[0], floor.split(" (")[0]
        table.add(SECTION, f"{short} ÷ its floor, the {floor_short} (throughput)",
                  f"{measured[label].rps / measured[floor].rps:.2f}",
                  f"{measured[floor].rps:,.0f} req/s for the floor alone; the floor ÷ bare view: "
                  f"{measured[floor].rps / bare:.2f}")
    bare_p99 = measured[targets[0][0]].p99_ms
    for label in (PAGE, JSON):
        short = label.split(" (")[0]
        table.add(SECTION, f"{short}: p99 ÷ bare view's p99", f"{measured[label].p99_ms / bare_p99:.1f}",
                  f"{measured[label].p99_ms:.1f} ms ÷ {bare_p99:.1f} ms under the same load")
