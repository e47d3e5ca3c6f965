"""Profiles of the measured pages: where one request's time goes, as a flame graph per endpoint.

    .venv/bin/python benchmarks/flames.py             # seed (if needed), profile, write benchmarks/profiles/
    .venv/bin/python benchmarks/flames.py --requests 2000

Runs in-process, through Django's WSGI handler (the whole middleware stack, like gunicorn gives
it), on the benchmark's database and Redis (``BENCH_DATABASE_URL`` / ``BENCH_REDIS_URL``; the
database is seeded the way ``make bench`` seeds it when it has no transactions yet). For each
endpoint it writes ``benchmarks/profiles/<name>.svg`` (a flame graph, via flameprof) and
``<name>.txt`` (the top functions by cumulative time; not committed: they are per machine),
and ``var/profiles/<name>.prof`` (cProfile, for snakeviz or pstats); it prints the mean time per
request, SQL statements and Redis round trips per request.
"""
import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _environ(path: str, cookie: str = "") -> dict:
    from urllib.parse import urlsplit

    parts = urlsplit(path)
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests per endpoint (default 1000)")
    parser.add_argument("--only", action="append", help="profile only this endpoint (bare, limited, logged-in, page, json, detail)")
    args = parser.parse_args()
    os.chdir(REPO)
    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intrasa_bench")
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.test import Client

    from benchmarks import seed
    from benchmarks.harness import counting
    from transactions.models import EscrowTransaction

    call_command("migrate", verbosity=0, interactive=False)
    if not EscrowTransaction.objects.exists():
        print("seeding the benchmark's transactions…", flush=True)
        seed.seed_web(count=300, people=7)  # settled (VACUUM ANALYZE) as make bench's is
    # The web section's 300 (seeded first), as make bench rotates through: after a full make bench
    # the database also holds the growth section's thousands, which no page of the run looks up.
    txns = list(EscrowTransaction.objects.order_by("id")[:300])
    me = txns[0].seller_id
    client = Client()
    client.force_login(type(txns[0]).seller.field.related_model.objects.get(pk=me))
    from django.middleware.csrf import _get_new_csrf_string

    # As a logged-in browser sends them: the session, and the CSRF cookie it got with its first page.
    cookie = (f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; "
              f"{settings.CSRF_COOKIE_NAME}={_get_new_csrf_string()}")
    endpoints = {
        "bare": (["/bench/bare/"], ""),
        "limited": (["/bench/limited/"], ""),
        "logged-in": (["/bench/logged-in/"], cookie),
        "page": ([f"/cek-transaksi/?reference={t.reference}" for t in txns], ""),
        "json": ([f"/api/cek-transaksi/{t.reference}/" for t in txns], ""),
        "detail": ([f"/transaksi/{t.reference}/" for t in txns if t.seller_id == me], cookie),
    }
    out = REPO / "benchmarks" / "profiles"
    raw = REPO / "var" / "profiles"
    out.mkdir(parents=True, exist_ok=True)
    raw.mkdir(parents=True, exist_ok=True)
    handler = WSGIHandler()
    redis_calls = []
    original = redis.connection.Connection.send_packed_command

    def counting_send(self, *a, **k):
        redis_calls.append(1)
        return original(self, *a, **k)

    redis.connection.Connection.send_packed_command = counting_send

    def request(path, cookie):
        status = []
        body = handler(_environ(path, cookie), lambda s, h, exc_info=None: status.append(s))
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if not status[0].startswith("200"):
            raise RuntimeError(f"{path}: {status[0]}")

    for name, (paths, cookie) in endpoints.items():
        if args.only and name not in args.only:
            continue
        for path in paths:  # warm up: templates compiled, connections open, every page's cache filled
            request(path, cookie)
        redis_calls.clear()
        with counting() as c:
            for n in range(200):
                request(paths[n % len(paths)], cookie)
        queries, round_trips = c.queries / 200, len(redis_calls) / 200
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for n in range(args.requests):
            request(paths[n % len(paths)], cookie)
        profiler.disable()
        profiled = (time.perf_counter() - started) / args.requests * 1000
        started = time.perf_counter()
        for n in range(args.requests):
            request(paths[n % len(paths)], cookie)
        plain = (time.perf_counter() - started) / args.requests * 1000
        profiler.dump_stats(raw / f"{name}.prof")
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
        (out / f"{name}.txt").write_text(text.getvalue())
        with open(out / f"{name}.svg", "w") as svg:
            subprocess.run([sys.executable, "-m", "flameprof", "--threshold", "0.5", str(raw / f"{name}.prof")],
                           stdout=svg, check=False)
        calls = pstats.Stats(profiler).total_calls / args.requests  # type: ignore[attr-defined]
        print(f"{name:7s} {plain:6.2f} ms/request (profiled {profiled:.2f}); {calls:,.0f} Python calls, "
              f"{queries:.1f} SQL, "
              f"{round_trips:.1f} Redis round trips per request → benchmarks/profiles/{name}.svg", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
