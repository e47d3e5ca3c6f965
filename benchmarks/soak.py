"""Soak: a steady load for a minute, then the books are checked.

* Web: ``RATE`` requests/s for ``SECONDS`` s on the public pages (Cek Transaksi page and its JSON
  API over every seeded transaction, the fee page, the home page), open loop
  (``loadgen.paced``), against the same gunicorn as the web section. Passes with 0 errors;
  p50/p99 are reported (latency counted from each request's due time).
* Money: escrow lifecycles against the sandbox over HTTP for ``SECONDS`` s on two driver threads,
  then ``manage.py ledger_check`` must pass (every DESIGN.md §4.3 invariant, over the whole
  ledger the run built).
"""
from django.core.management import call_command

from . import loadgen
from .harness import Server, Table, fmt_ms

SECTION = "soak"
FAILURES: list[str] = []
SECONDS = 60
RATE = 200
THREADS = 16


def run_web(table: Table, server: Server, references: list[str]) -> None:
    paths = []
    for n, reference in enumerate(references):
        paths.append(f"/api/cek-transaksi/{reference}/")
        paths.append(f"/cek-transaksi/?reference={reference}")
        if n % 10 == 0:
            paths += ["/biaya-layanan/", "/"]
    print(f"\n== soak: {RATE} requests/s for {SECONDS} s on the public pages", flush=True)
    result = loadgen.paced(server.url, paths, rate=RATE, seconds=SECONDS, threads=THREADS)
    verdict = "0 errors" if not result.errors else f"FAILED: {result.errors:,} errors"
    table.add(SECTION, f"public pages at {RATE} req/s for {SECONDS} s", verdict,
              f"{result.requests:,} answered ({result.rps:,.0f}/s); p50 {result.p50_ms:.1f} ms, "
              f"p99 {result.p99_ms:.1f} ms from each request's due time; {server.description}; "
              f"Cek Transaksi page + JSON, fees, home")
    if result.errors:  # the run goes on (the table is written), and make bench exits non-zero
        FAILURES.append(f"soak: {result.errors} failed requests at {RATE} req/s")


def run_money(table: Table, server: Server) -> None:
    from django.db import transaction

    from . import money
    from .seed import give_bank_account, parties

    with transaction.atomic():
        pairs = parties(2, "s")
        for pair in pairs:
            give_bank_account(pair.seller)
    print(f"\n== soak: escrow lifecycles for {SECONDS} s, then ledger_check", flush=True)
    saved = money.LIFECYCLE_SECONDS, money.LIFECYCLE_MAX
    money.LIFECYCLE_SECONDS, money.LIFECYCLE_MAX = SECONDS, 10**6
    from django.core.management.base import CommandError

    lifecycle_error = ""
    try:
        count, elapsed, durations = money._lifecycles(pairs, server.url, threads=len(pairs))
    except Exception as exc:  # noqa: BLE001 - a lifecycle that did not end disbursed: reported, books checked
        lifecycle_error = f"a lifecycle failed: {exc}"
        count, elapsed, durations = 0, float(SECONDS), [0.0]
    finally:
        money.LIFECYCLE_SECONDS, money.LIFECYCLE_MAX = saved
    # Over the whole ledger: the web section's seed is made by the real services too
    # (benchmarks/seed.py, tests/test_benchmark_seed.py), so any breach is a failure.
    try:
        call_command("ledger_check", verbosity=0)
        ledger = "green"
    except CommandError as exc:
        ledger = f"FAILED ({exc})"
    verdict = "green" if ledger == "green" and not lifecycle_error else "FAILED"
    if verdict != "green":
        FAILURES.append(f"soak: {lifecycle_error or ''} ledger_check {ledger}".strip())
    runs = (f"{count} lifecycles in {elapsed:.1f} s ({count / elapsed:.1f}/s) on {len(pairs)} threads; "
            f"p50 {fmt_ms(durations[len(durations) // 2])}, p99 {fmt_ms(durations[int(len(durations) * 0.99)])}"
            if not lifecycle_error else lifecycle_error + " (server log: var/bench-gunicorn-money.log)")
    table.add(SECTION, f"escrow lifecycles for {SECONDS} s, then ledger_check", verdict,
              f"{runs}; ledger_check over the whole ledger: {ledger}")
