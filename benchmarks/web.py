"""Web: requests per second and p50/p99 of Cek Transaksi (HTML and JSON) and of the transaction
detail page, next to a bare Django view on the same gunicorn in the same run.

The figure that matters is each page's share of the bare view's throughput: the machine, the load
generator and gunicorn cancel out; what is left is what the page costs.

Two more reference views (``benchmarks/urls.py``) measure the floor under each page: the bare view
plus Cek Transaksi's exact rate-limit count (one Redis round trip), and the bare view logged in
(session + user). "÷ its floor" is what the page costs on top of what it cannot skip.

**Rounds.** The pages are measured in ``ROUNDS`` interleaved rounds (every page once per round, in
the same order), and each ratio is the median of its per-round ratios: a page and the bare view it is
divided by are measured seconds apart, not a minute apart, so a change in the machine's background
load (a shared host) moves both. Each row shows its rounds' spread.

**Machine CPU per request.** Throughput on a shared VM also moves with *steal* (the host running other
tenants on this VM's CPUs: 3–14 % in ``vmstat`` during one run). Each round also reads the CPU time the
machine spent running anything, steal excluded (``harness.machine_busy_seconds``), and divides it by the
requests answered: the "÷ bare view (machine CPU per request)" rows are the bare view's cost over the
page's, round by round, the same ratio as the throughput one when the CPUs are the bottleneck (they are:
two CPUs, all busy), with the host's share taken out. The throughput rows stay the figures of record.
In a quiet run the two move together round by round (within 0.03): what changes from round to round is
then what a request costs (the host's caches and memory are shared with its other tenants). In a disturbed
one they part: the logged-in floor's rounds went 0.34–0.84 in throughput and 0.43–0.61 in CPU.
"""
import statistics

from django.conf import settings
from django.test import Client

from . import loadgen
from .harness import Server, Table, counting, machine_busy_seconds

SECTION = "web"
SECONDS = 2  # per page and round
ROUNDS = 9
# Before a view's first round. The pages kept per process need every worker to have rendered every path
# (Cek Transaksi: 300 pages × 3 workers, ~10 ms each): with 4 s, the first round of Cek Transaksi's page
# still rendered and came out far below the others in each of four runs (0.41–0.54 against a median of
# 0.55–0.69), so they get longer.
FIRST_WARMUP = 4.0
FIRST_WARMUP_KEPT = 10.0
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
    print(f"\n== web: {len(txns)} transactions; load: {tool}, {CONNECTIONS} connections, {ROUNDS} rounds of "
          f"{SECONDS} s per page", flush=True)
    costs, headers = {}, {}
    for label, paths, user in targets:
        costs[label], statuses = _per_request(paths[:40], user=user)
        if statuses != {200}:
            raise RuntimeError(f"{label}: expected 200 from every path, got {sorted(statuses)}")
        headers[label] = {"Cookie": _browser_cookies(user)} if user else {}
    rounds: dict[str, list[loadgen.LoadResult]] = {label: [] for label, _paths, _user in targets}
    cpu_per_request: dict[str, list[float]] = {label: [] for label, _paths, _user in targets}
    for round_number in range(ROUNDS):  # the caller's server (sync ×WORKERS), shared with the soak
        for label, paths, _user in targets:
            if round_number == 0:
                warmup = FIRST_WARMUP_KEPT if label in (PAGE, JSON, DETAIL) else FIRST_WARMUP
                loadgen.run(server.url, paths, seconds=warmup, connections=CONNECTIONS, headers=headers[label],
                            warmup=0)
            busy_before = machine_busy_seconds()
            result = loadgen.run(server.url, paths, seconds=SECONDS, connections=CONNECTIONS, headers=headers[label],
                                 warmup=0)
            busy_after = machine_busy_seconds()
            if result.errors:
                raise RuntimeError(f"{label}: {result.errors} failed requests under load")
            rounds[label].append(result)
            if busy_before is not None and busy_after is not None and result.requests:
                cpu_per_request[label].append((busy_after - busy_before) / result.requests)
    for label, _paths, _user in targets:
        results = rounds[label]
        median = statistics.median
        table.add(SECTION, f"{label}: req/s", f"{median(r.rps for r in results):,.0f}",
                  f"p50 {median(r.p50_ms for r in results):.1f} ms, p99 {median(r.p99_ms for r in results):.1f} ms "
                  f"(medians of {ROUNDS} rounds: {_spread([r.rps for r in results], '{:,.0f}')} req/s); {costs[label]}; "
                  f"{server.description}, {results[0].tool} c={CONNECTIONS}, "
                  f"{sum(r.requests for r in results):,} requests")

    def ratio(label: str, floor: str, of=lambda result: result.rps) -> tuple[float, str]:
        """The median of the per-round ratios of ``label`` to ``floor``, and their spread."""
        per_round = [of(mine) / of(theirs) for mine, theirs in zip(rounds[label], rounds[floor], strict=True)]
        return statistics.median(per_round), _spread(per_round, "{:.2f}")

    bare_label = targets[0][0]
    for label, _paths, _user in targets[1:]:
        short = label.split(" (")[0]
        value, spread = ratio(label, bare_label)
        table.add(SECTION, f"{short} ÷ bare view (throughput)", f"{value:.2f}",
                  f"{1 / value:.1f}× the cost of the bare view; rounds {spread}")
    for label, floor in ((PAGE, LIMITED), (JSON, LIMITED), (DETAIL, LOGGED_IN)):
        short, floor_short = label.split(" (")[0], floor.split(" (")[0]
        value, spread = ratio(label, floor)
        floor_value, _floor_spread = ratio(floor, bare_label)
        table.add(SECTION, f"{short} ÷ its floor, the {floor_short} (throughput)", f"{value:.2f}",
                  f"rounds {spread}; the floor ÷ bare view: {floor_value:.2f}")
    if all(len(cpu_per_request[label]) == ROUNDS for label, _paths, _user in targets):
        bare_cpu = cpu_per_request[bare_label]
        for label, _paths, _user in targets[1:]:
            short = label.split(" (")[0]
            per_round = [theirs / mine for mine, theirs in zip(cpu_per_request[label], bare_cpu, strict=True)]
            table.add(SECTION, f"{short} ÷ bare view (machine CPU per request)",
                      f"{statistics.median(per_round):.2f}",
                      f"{statistics.median(cpu_per_request[label]) * 1000:.2f} ms ÷ "
                      f"{statistics.median(bare_cpu) * 1000:.2f} ms a request (medians), steal excluded; "
                      f"rounds {_spread(per_round, '{:.2f}')}")
    for label in (PAGE, JSON):
        short = label.split(" (")[0]
        value, spread = ratio(label, bare_label, of=lambda result: result.p99_ms)
        table.add(SECTION, f"{short}: p99 ÷ bare view's p99", f"{value:.1f}",
                  f"under the same load, round by round: {spread}")


def _spread(values, form: str) -> str:
    """The rounds' values, as measured: ``a / b / c``."""
    return " / ".join(form.format(value) for value in values)
