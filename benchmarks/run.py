"""``make bench``: INTRASA's benchmarks, printed as one table and written to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py                 # everything (about 5 minutes)
    .venv/bin/python benchmarks/run.py --only web      # one section: web, money, growth, soak
    .venv/bin/python benchmarks/run.py --quick         # short runs, small sizes: checks the harness

It creates (drops first) the PostgreSQL database ``intrasa_bench``, migrates it, seeds it through
the services, starts gunicorn on free loopback ports, measures, and stops what it started. See
benchmarks/README.md for what each number means.
"""
import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _ensure_wrk() -> None:
    if shutil.which("wrk") is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["bash", str(REPO / "benchmarks" / "setup.sh")], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=["web", "money", "growth", "soak"],
                        help="run only this section (repeatable)")
    parser.add_argument("--quick", action="store_true", help="short runs and small sizes (harness check)")
    parser.add_argument("--no-results", action="store_true", help="do not rewrite benchmarks/RESULTS.md")
    args = parser.parse_args()
    sections = args.only or ["web", "money", "growth", "soak"]
    os.chdir(REPO)
    _ensure_wrk()

    from benchmarks.harness import Server, Table, free_port, machine_description, recreate_database

    # This process talks to the money/growth server; its settings take that server's port.
    money_port = free_port()
    os.environ["BENCH_PORT"] = str(money_port)
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    from benchmarks import growth, money, seed, soak, web

    if args.quick:
        web.SECONDS, web.ROUNDS, money.LIFECYCLE_SECONDS, money.LEDGER_SECONDS, money.PGBENCH_SECONDS = 2, 2, 5, 2, 5
        growth.SIZES = (100, 300)
        soak.SECONDS = 5

    database_url = os.environ["DATABASE_URL"]
    load_before = _load_average()
    started = time.perf_counter()
    print(f"INTRASA benchmarks: database {recreate_database(database_url)} (recreated)", flush=True)
    cache.clear()  # Redis database of the benchmark only (BENCH_REDIS_URL): rate-limit counters
    call_command("migrate", verbosity=0, interactive=False)
    table = Table()

    if "web" in sections or "soak" in sections:
        t0 = time.perf_counter()
        pairs, txns = seed.seed_web(count=300 if not args.quick else 60, people=7)
        print(f"seeded {len(txns)} transactions through the services in {time.perf_counter() - t0:.1f} s", flush=True)
        with Server(free_port(), workers=web.WORKERS) as server:
            if "web" in sections:
                web.run(table, pairs, txns, server)
            if "soak" in sections:
                soak.run_web(table, server, [t.reference for t in txns])

    if "money" in sections or "growth" in sections or "soak" in sections:
        with Server(money_port, workers=2, threads=8, log_name="bench-gunicorn-money.log") as server:
            control = money.Control(server.url)
            control("config", settle_delay_seconds=0, callback_retry_seconds=0)
            control("balance", balance=10**13)
            if "soak" in sections:  # first: ledger_check then sees only what the services posted
                soak.run_money(table, server)
            if "money" in sections:
                money.run(table, database_url, server, control)
            if "growth" in sections:
                try:
                    growth.run(table, control)
                except Exception as exc:  # noqa: BLE001 - reported in the table; the results are still written
                    money.FAILURES.append(f"growth: {exc!r}")
                    table.add("growth", "growth section", "FAILED", repr(exc)[:300])

    elapsed = time.perf_counter() - started
    print("\n" + table.markdown(), flush=True)
    print(f"\nmake bench: {elapsed:.0f} s", flush=True)
    if not args.no_results and not args.quick and set(sections) == {"web", "money", "growth", "soak"}:
        _write_results(table, machine_description(database_url), elapsed, (load_before, _load_average()))
        print("written: benchmarks/RESULTS.md", flush=True)
    for failure in soak.FAILURES + money.FAILURES:
        print(f"FAILED {failure}", flush=True)
    return 1 if soak.FAILURES or money.FAILURES else 0


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _write_results(table, machine: dict, elapsed: float, load: tuple[str, str]) -> None:
    from benchmarks import loadgen

    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=7)))
    text = f"""# Benchmark results

Latest `make bench` run: **{now:%Y-%m-%d %H:%M} WIB**, {elapsed:.0f} s in all.
What each number means, and how to run it: [README.md](README.md).

Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']} memory, PostgreSQL {machine['postgresql']},
Python {machine['python']}; load generator: {"wrk" if loadgen.wrk_available() else "Python threads"};
everything (load generator, gunicorn, PostgreSQL, Redis) on the same machine, over loopback.
Load average (1/5/15 min) before the run: {load[0]}; after: {load[1]}. Anything else running on
the machine (a test suite, a browser) shows up here and lowers every absolute number; the
ratios (÷ bare view, ÷ pgbench) are measured side by side in the same run and suffer less.

{table.markdown()}
"""
    (REPO / "benchmarks" / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
