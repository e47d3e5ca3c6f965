"""Load on loopback: Debian's ``wrk`` when installed, otherwise a small threaded Python generator.

Both rotate through a list of paths (so the pages look up different rows), send the same headers,
run for a fixed time, and report requests per second, p50 and p99 latency and the number of
answers that were not 2xx. Targets are checked to be 127.0.0.1 before anything is sent.
"""
import http.client
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    tool: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and socket errors


def _loopback_only(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load is only ever sent to loopback, not {parts.hostname}")
    return parts.hostname, parts.port or 80


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run(base_url: str, paths: list[str], *, seconds: float, connections: int, headers: dict | None = None,
        warmup: float = 2.0) -> LoadResult:
    _loopback_only(base_url)
    if wrk_available():
        if warmup:
            _wrk(base_url, paths, seconds=warmup, connections=connections, headers=headers)
        return _wrk(base_url, paths, seconds=seconds, connections=connections, headers=headers)
    if warmup:
        _python(base_url, paths, seconds=warmup, connections=connections, headers=headers)
    return _python(base_url, paths, seconds=seconds, connections=connections, headers=headers)


# --- wrk --------------------------------------------------------------------------------------

_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()
    return float(number) * _UNITS[unit]


def _wrk(base_url, paths, *, seconds, connections, headers) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA % ", ".join('"%s"' % p.replace('"', '\\"') for p in paths))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s",
               "-s", script.name]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(base_url.rstrip("/") + paths[0])
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        # A sync gunicorn worker closes the connection after each answer; wrk counts the close
        # it sees as a "read" error although the answer was complete. Connect, write and
        # timeout errors are real.
        errors += int(match.group(1)) + int(match.group(3)) + int(match.group(4))
    return LoadResult("wrk", total, rps, p50, p99, errors)


# --- Python fallback --------------------------------------------------------------------------

def _python(base_url, paths, *, seconds, connections, headers) -> LoadResult:
    host, port = _loopback_only(base_url)
    prefix = urlsplit(base_url).path.rstrip("/")
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections

    def worker(index: int) -> None:
        conn = None
        i = index
        while time.perf_counter() < deadline:
            path = prefix + paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", path, headers=headers or {})
                response = conn.getresponse()
                response.read()
                if not 200 <= response.status < 300:
                    errors[index] += 1
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            latencies[index].append((time.perf_counter() - started) * 1000)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = sorted(x for per in latencies for x in per)
    if not samples:
        return LoadResult("python", 0, 0.0, 0.0, 0.0, sum(errors))

    def pct(p: float) -> float:
        return samples[min(len(samples) - 1, int(p * len(samples)))]

    return LoadResult("python", len(samples), len(samples) / elapsed, pct(0.50), pct(0.99), sum(errors))


# --- fixed rate (soak) ------------------------------------------------------------------------

def paced(base_url: str, paths: list[str], *, rate: float, seconds: float, threads: int = 16,
          headers: dict | None = None) -> LoadResult:
    """Open-loop load at a fixed ``rate`` (requests/s) for ``seconds``: request *i* is due at
    ``start + i / rate`` whatever happened to the ones before, and its latency counts from that
    moment, so a slow server shows up in p99 instead of silently lowering the rate (no coordinated
    omission). ``threads`` bounds the requests in flight; a request that cannot start within a
    second of its due time counts as an error."""
    host, port = _loopback_only(base_url)
    prefix = urlsplit(base_url).path.rstrip("/")
    total = int(rate * seconds)
    started = time.perf_counter() + 0.2
    lock = threading.Lock()
    next_index = [0]
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        conn = None
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                break
            due = started + index / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -1.0:  # the generator fell a second behind: the server is saturated
                with lock:
                    errors[0] += 1
                continue
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", prefix + paths[index % len(paths)], headers=headers or {})
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 300
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                ok = False
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                if ok:
                    latencies.append((time.perf_counter() - due) * 1000)
                else:
                    errors[0] += 1
        if conn is not None:
            conn.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = sorted(latencies)
    if not samples:
        return LoadResult("python paced", 0, 0.0, 0.0, 0.0, errors[0])

    def pct(p: float) -> float:
        return samples[min(len(samples) - 1, int(p * len(samples)))]

    return LoadResult("python paced", len(samples), len(samples) / elapsed, pct(0.50), pct(0.99), errors[0])
