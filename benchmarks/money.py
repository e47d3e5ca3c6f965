"""Money path: complete escrow lifecycles per second against the sandbox over HTTP, ledger postings
per second, and pgbench's TPC-B-like transactions per second on the same PostgreSQL, same run.

A lifecycle is what happens to real money, through the real services and the real HTTP protocols:
create → accept → payment_start (Faspay Post Data over HTTP) → the buyer pays (sandbox control
``bill_pay``, which sends the payment notification to INTRASA over HTTP; INTRASA's handler marks
it paid and runs the status inquiry, which verifies it) → ship → confirm (the release plans the
payout; SendMe transfer-interbank over HTTP; with ``settle_delay_seconds=0`` it settles at once and
the sandbox's callback makes INTRASA inquire) → ``disbursed``. Celery runs eagerly, so the side
effects that a worker would run happen inside the request or service that enqueued them.
"""
import contextlib
import re
import subprocess
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import connection, transaction

from escrow import services as escrow_services
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from payments import services as payment_services
from transactions import services
from transactions.models import EscrowTransaction, Status

from .harness import Server, Table, counting, drop_database, fmt_ms, pg_tool, recreate_database
from .seed import TXN, Party, give_bank_account, parties, walk

SECTION = "money"
LIFECYCLE_SECONDS = 25
LIFECYCLE_MAX = 200
LEDGER_SECONDS = 8
LEDGER_MAX = 20_000  # per thread: bounds the rows a run adds; above 8 s of posting, so no thread stops early
PGBENCH_SECONDS = 15


class Control:
    """The sandbox's control API (``/sandbox/control/api``)."""

    def __init__(self, base_url: str):
        self.url = f"{base_url}/sandbox/control/api"
        self.session = requests.Session()
        # DEBUG is off: the control API asks for the sandbox operator's credentials.
        self.session.auth = (settings.FASPAY_SANDBOX_USERNAME, settings.FASPAY_SANDBOX_PASSWORD)
        self.calls = 0

    def __call__(self, action: str, **data):
        self.calls += 1
        response = self.session.post(self.url, json={"action": action, **data}, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"sandbox control {action}: {response.status_code} {response.text[:300]}")
        return response.json()["result"]


STEPS = ("create", "accept", "payment_start", "paid (server)", "ship", "confirm", "disbursed (server)")


def lifecycle(party: Party, control: Control, step=None) -> None:
    """One lifecycle; ``step(name)``, if given, is a context manager around each step (counting)."""
    step = step or (lambda name: contextlib.nullcontext())
    with step("create"):
        txn = services.transaction_create(seller=party.seller, buyer_email=party.buyer.email, **TXN)
    with step("accept"):
        txn = services.transaction_accept(escrow_transaction=txn, buyer=party.buyer)
    with step("payment_start"):
        bill = payment_services.payment_start(escrow_transaction=txn, buyer=party.buyer, channel_code="702")
    with step("paid (server)"):  # the server's notification handling is not counted: only the driver's check
        control("bill_pay", trx_id=bill.provider_trx_id)  # the buyer pays at the bank
        if (status := _status(txn)) != Status.VERIFIED:
            raise RuntimeError(f"{txn.reference}: {status} after the payment, expected verified")
    with step("ship"):
        txn = services.transaction_ship(escrow_transaction=txn, seller=party.seller, courier="jne",
                                        tracking_number="JNE0012345678")
    with step("confirm"):  # release + payout plan; eager Celery then dispatches the part (SendMe)
        escrow_services.escrow_confirm(escrow_transaction=txn, buyer=party.buyer)
    with step("disbursed (server)"):
        if (status := _status(txn)) != Status.DISBURSED:
            raise RuntimeError(f"{txn.reference}: {status} after the confirmation, expected disbursed")


def _status(txn: EscrowTransaction) -> str:
    # Not refresh_from_db(): django-fsm-2 lifts the field's ``protected`` flag on the *field* (shared
    # by every thread) while it refreshes, so two threads refreshing at once raise AttributeError.
    return EscrowTransaction.objects.values_list("status", flat=True).get(pk=txn.pk)


def _lifecycles(pairs: list[Party], control_url: str, *, threads: int) -> tuple[int, float, list[float]]:
    """Run lifecycles on ``threads`` threads (one seller/buyer pair each) for a fixed time."""
    done, durations, failures = [0] * threads, [], []
    deadline = time.perf_counter() + LIFECYCLE_SECONDS

    def worker(index: int) -> None:
        control = Control(control_url)
        try:
            while time.perf_counter() < deadline and sum(done) < LIFECYCLE_MAX:
                started = time.perf_counter()
                lifecycle(pairs[index], control)
                durations.append(time.perf_counter() - started)
                done[index] += 1
        except Exception as exc:  # noqa: BLE001 - reported below, the run must stop
            failures.append(exc)
        finally:
            connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return sum(done), elapsed, sorted(durations)


def _ledger_post(txn: EscrowTransaction, key: str) -> None:
    """One entry in its own database transaction: the shape every service posts (two lines)."""
    with transaction.atomic():
        entry_post(idempotency_key=key, kind=EntryKind.PAYMENT_VERIFIED, memo="benchmark posting",
                   escrow_transaction=txn, lines=[debit(AccountCategory.PROVIDER_CLEARING, 1_000),
                                                  credit(AccountCategory.ESCROW_HOLD, 1_000)])


def _round_trips(call) -> int:
    """Messages of ``call`` that wait for PostgreSQL's answer (a simple Query, or the Sync closing an
    extended-protocol exchange), read from libpq's protocol trace: BEGIN and COMMIT count, unlike in
    ``counting``, which sees the statements only."""
    import tempfile

    from psycopg import pq

    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            call()
        finally:
            pgconn.untrace()
        trace.seek(0)
        messages = [line.split("\t") for line in trace]
    # Each line: direction (F = sent by the client), length, message.
    return sum(1 for m in messages if len(m) > 2 and m[0] == "F" and m[2].split(" ")[0] in ("Query", "Sync"))


def _ledger_rate(txns: list[EscrowTransaction], tag: str) -> tuple[int, float]:
    """Entries posted in ``LEDGER_SECONDS`` on one thread per transaction (each its own connection)."""
    done = [0] * len(txns)
    deadline = time.perf_counter() + LEDGER_SECONDS

    def worker(index: int) -> None:
        try:
            while time.perf_counter() < deadline and done[index] < LEDGER_MAX:
                _ledger_post(txns[index], f"bench-ledger:{tag}:{txns[index].pk}:{done[index]}")
                done[index] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(len(txns))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done), time.perf_counter() - started


def _ledger(table: Table, party: Party) -> tuple[float, float]:
    """entry_post on one thread and on two (two workers, as production runs several); returns both rates."""
    txns = [walk(party, Status.VERIFIED), walk(party, Status.VERIFIED)]
    for txn in txns:
        _ledger_post(txn, f"bench-ledger:warm:{txn.pk}")  # accounts exist from here on, as in a running system
    with counting() as sample:
        for i in range(50):
            _ledger_post(txns[0], f"bench-ledger:count:{txns[0].pk}:{i}")
    queries = sample.queries / 50
    trips = _round_trips(lambda: _ledger_post(txns[0], f"bench-ledger:trace:{txns[0].pk}"))
    rates = []
    for threads in (1, 2):
        count, elapsed = _ledger_rate(txns[:threads], f"t{threads}")
        rates.append(count / elapsed)
        table.add(SECTION, f"ledger entry_post: entries/s, {threads} thread{'s' if threads > 1 else ''} "
                  "(1 entry per DB transaction)", f"{count / elapsed:,.0f}",
                  f"= {count / elapsed * 2:,.0f} postings/s; {queries:.0f} SQL statement/entry, {trips} round trips "
                  f"with BEGIN and COMMIT; {count:,} entries in {elapsed:.1f} s"
                  + ("" if threads == 1 else ", each thread its own transaction and connection"))
    return rates[0], rates[1]


def _pgbench(table: Table, database_url: str) -> float:
    # A scratch database named after the benchmark's own, so two runs on one machine (each with its
    # BENCH_DATABASE_URL) never drop each other's.
    parts = urlsplit(database_url)
    url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_pgbench"))
    name = recreate_database(url)
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    try:
        subprocess.run([pg_tool("pgbench"), *host, "-i", "-s", "10", "-q", name], check=True,
                       capture_output=True, text=True, timeout=300)
        output = subprocess.run([pg_tool("pgbench"), *host, "-c", "2", "-j", "2", "-T", str(PGBENCH_SECONDS), name],
                                check=True, capture_output=True, text=True, timeout=PGBENCH_SECONDS + 60).stdout
    finally:
        drop_database(url)
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    table.add(SECTION, "pgbench TPC-B-like: transactions/s", f"{tps:,.0f}",
              f"-s 10 -c 2 -j 2 -T {PGBENCH_SECONDS} on {name}; latency avg {latency.group(1) if latency else '?'} ms; "
              "5 statements (7 round trips with BEGIN and END) per transaction")
    return tps


FAILURES: list[str] = []


def _lifecycle_row(table: Table, label: str, pairs, server: Server, suffix: str) -> float:
    """One lifecycles/s row; a lifecycle that does not end disbursed is reported in the row (and
    makes ``make bench`` exit non-zero) instead of stopping the whole run."""
    try:
        count, elapsed, durations = _lifecycles(pairs, server.url, threads=len(pairs))
    except Exception as exc:  # noqa: BLE001
        FAILURES.append(f"money: {label}: {exc}")
        table.add(SECTION, label, "FAILED", f"{exc} (server log: var/bench-gunicorn-money.log)")
        return float("nan")
    table.add(SECTION, label, f"{count / elapsed:.1f}",
              f"{count} lifecycles in {elapsed:.1f} s; p50 {fmt_ms(durations[len(durations) // 2])}{suffix}")
    return count / elapsed


def run(table: Table, database_url: str, server: Server, control: Control) -> None:
    print("\n== money path: lifecycles over HTTP against the sandbox, ledger postings, pgbench", flush=True)
    with transaction.atomic():
        pairs = parties(2, "m")
        for pair in pairs:
            give_bank_account(pair.seller)
    try:
        lifecycle(pairs[0], control)  # warm-up: keys loaded, connections open, code paths hot
        steps = {}

        @contextlib.contextmanager
        def step(name):
            with counting() as counts:
                yield
            steps[name] = counts

        with counting() as one:
            lifecycle(pairs[0], control, step)
    except Exception as exc:  # noqa: BLE001 - reported; the ledger and pgbench rows still run
        FAILURES.append(f"money: one escrow lifecycle: {exc}")
        table.add(SECTION, "one escrow lifecycle, sequential: wall time", "FAILED",
                  f"{exc} (server log: var/bench-gunicorn-money.log)")
        one = None
    if one is not None:
        intrasa_http = one.http - 1  # minus the control call that stands for the buyer paying
        table.add(SECTION, "one escrow lifecycle, sequential: wall time", fmt_ms(one.seconds),
                  f"{one.queries} SQL queries and {intrasa_http} HTTP calls in the driver process "
                  "(the server's notification/callback handling comes on top)")
        table.add(SECTION, "one escrow lifecycle: SQL by the services the driver calls", str(one.queries - one.task_queries),
                  f"+ {one.task_queries} in the Celery tasks they enqueue (emails, the payout's dispatch: eager here, "
                  f"a worker's in production); per step, services + tasks: "
                  + ", ".join(f"{name} {c.queries - c.task_queries} + {c.task_queries}" for name, c in steps.items()))

    rate2 = float("nan")
    if one is not None:
        _lifecycle_row(table, "escrow lifecycles/s, 1 driver thread", pairs[:1], server,
                       f"; {server.description}, sandbox settle_delay 0")
        rate2 = _lifecycle_row(table, "escrow lifecycles/s, 2 driver threads", pairs[:2], server, "")
    ledger_rate, ledger_rate2 = _ledger(table, pairs[1])
    tps = _pgbench(table, database_url)
    table.add(SECTION, "ledger entries/s, 2 threads ÷ pgbench TPS (2 clients)", f"{ledger_rate2 / tps:.2f}",
              "like for like: two connections each; same PostgreSQL, same run")
    table.add(SECTION, "ledger entries/s, 1 thread ÷ pgbench TPS (2 clients)", f"{ledger_rate / tps:.2f}",
              "one connection against pgbench's two; same PostgreSQL, same run")
    table.add(SECTION, "lifecycles/s (2 threads) ÷ pgbench TPS", f"{rate2 / tps:.4f}",
              f"1 lifecycle ≈ {tps / rate2:.0f} pgbench transactions of database+CPU time")

