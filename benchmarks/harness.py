"""What every section of ``make bench`` shares: the scratch databases, the gunicorn it starts and
stops, counting SQL queries / HTTP calls / new TCP connections, and the result table."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- PostgreSQL --------------------------------------------------------------------------------

def _admin_conninfo(database_url: str) -> dict:
    parts = urlsplit(database_url)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
            "user": parts.username or "postgres", "password": parts.password or None, "dbname": "postgres"}


def recreate_database(database_url: str) -> str:
    """Drop and create the database named in ``database_url``; return its name."""
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    if not name.startswith("intrasa_bench"):
        raise SystemExit(f"refusing to drop {name!r}: benchmark databases are named intrasa_bench*")
    with psycopg.connect(**_admin_conninfo(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(database_url: str) -> None:
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    if not name.startswith("intrasa_bench"):
        return
    with psycopg.connect(**_admin_conninfo(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_version(database_url: str) -> str:
    import psycopg

    with psycopg.connect(**_admin_conninfo(database_url)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, or in Debian's versioned bin folder."""
    from shutil import which

    found = which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise FileNotFoundError(name)


# --- the server -------------------------------------------------------------------------------

class Server:
    """gunicorn serving ``benchmarks.wsgi`` on 127.0.0.1:port; ``with Server(...) as s:``."""

    def __init__(self, port: int, *, workers: int, threads: int = 1, log_name: str = "bench-gunicorn.log"):
        self.port = port
        self.workers = workers
        self.threads = threads
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = VAR / log_name
        self.process: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        if self.threads > 1:
            return f"gunicorn gthread {self.workers}×{self.threads}"
        return f"gunicorn sync ×{self.workers}"

    def __enter__(self) -> "Server":
        VAR.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "gunicorn", "benchmarks.wsgi", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--timeout", "60", "--graceful-timeout", "5"]
        if self.threads > 1:
            command += ["--worker-class", "gthread", "--threads", str(self.threads)]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings", "BENCH_PORT": str(self.port)}
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if requests.get(self.url + "/bench/bare/", timeout=2).status_code == 200:
                    # Every worker imports Django lazily: warm them all before anything is timed.
                    for _ in range(self.workers * max(self.threads, 1) * 3):
                        requests.get(self.url + "/bench/bare/", timeout=5)
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer within 40 s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; it stops its workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()


# --- counting ---------------------------------------------------------------------------------

@dataclass
class Counts:
    queries: int = 0
    task_queries: int = 0  # of ``queries``: those run inside a Celery task (eager here)
    http: int = 0
    connects: int = 0
    seconds: float = 0.0
    query_log: list = field(default_factory=list)


@contextlib.contextmanager
def counting():
    """Count SQL queries (this thread's default connection), HTTP requests sent through
    ``requests.Session.send`` and new TCP connections opened by urllib3, and the wall time.

    Queries are counted with ``connection.execute_wrapper`` rather than
    ``CaptureQueriesContext``: the latter reads Django's query log, a deque capped at 9 000
    entries, and silently reports 0 once a long run has filled it.

    Celery runs eagerly in the benchmark, so the tasks a service enqueues (emails, the payout's
    dispatch) run in this process after the commit; ``task_queries`` is their share of ``queries``
    (in production a worker runs them, not the request).
    """
    import threading

    import urllib3.connection
    from celery.app.task import Task
    from django.db import connection

    counts = Counts()
    original_send = requests.Session.send
    original_connect = urllib3.connection.HTTPConnection.connect
    original_apply = Task.apply
    in_task = threading.local()

    def apply(self, *args, **kwargs):
        in_task.depth = getattr(in_task, "depth", 0) + 1
        try:
            return original_apply(self, *args, **kwargs)
        finally:
            in_task.depth -= 1

    def send(self, *args, **kwargs):
        counts.http += 1
        return original_send(self, *args, **kwargs)

    def connect(self, *args, **kwargs):
        counts.connects += 1
        return original_connect(self, *args, **kwargs)

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            counts.queries += 1
            counts.task_queries += 1 if getattr(in_task, "depth", 0) else 0
            counts.query_log.append((sql, time.perf_counter() - started))

    requests.Session.send = send
    urllib3.connection.HTTPConnection.connect = connect
    Task.apply = apply
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(record):
            yield counts
    finally:
        counts.seconds = time.perf_counter() - started
        requests.Session.send = original_send
        urllib3.connection.HTTPConnection.connect = original_connect
        Task.apply = original_apply


def statement_profile(query_log: list, top: int = 12) -> list[tuple[int, float, str]]:
    """(count, seconds, statement shape) of the most repeated statements, literals blanked."""
    import re
    from collections import defaultdict

    shapes: dict[str, list] = defaultdict(lambda: [0, 0.0])
    for sql, seconds in query_log:
        shape = re.sub(r"'[^']*'|\b\d+\b", "?", sql)
        shape = re.sub(r"\s+", " ", shape)[:160]
        shapes[shape][0] += 1
        shapes[shape][1] += seconds
    ranked = sorted(shapes.items(), key=lambda item: -item[1][0])[:top]
    return [(count, seconds, shape) for shape, (count, seconds) in ranked]


# --- the table --------------------------------------------------------------------------------

@dataclass
class Row:
    section: str
    what: str
    value: str
    detail: str = ""


class Table:
    def __init__(self):
        self.rows: list[Row] = []

    def add(self, section: str, what: str, value: str, detail: str = "") -> None:
        self.rows.append(Row(section, what, value, detail))
        print(f"  {what:<58} {value:>16}  {detail}", flush=True)

    def markdown(self, section: str | None = None) -> str:
        rows = [r for r in self.rows if section is None or r.section == section]
        lines = ["| section | measurement | value | detail |", "|---|---|---:|---|"]
        lines += [f"| {r.section} | {r.what} | {r.value} | {r.detail} |" for r in rows]
        return "\n".join(lines)


def machine_busy_seconds() -> float | None:
    """CPU time the machine's CPUs spent running anything (user, nice, system, irq, softirq: not idle, not
    waiting for I/O, and not *steal*, the time the host gave this VM's CPUs to its other tenants), from
    ``/proc/stat``; None where there is no ``/proc``. Over a load run, divided by the requests answered,
    it is what one request cost the whole machine (gunicorn, PostgreSQL, Redis, the load generator and
    the kernel between them), and a neighbour's burst moves it far less than it moves throughput."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine_description(database_url: str) -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {"nproc": str(os.cpu_count()), "memory": memory, "cpu": model or "unknown",
            "postgresql": postgres_version(database_url), "python": sys.version.split()[0]}
