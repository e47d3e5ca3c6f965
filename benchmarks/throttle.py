"""Lift Cek Transaksi's per-IP limits for the benchmark, keeping their cost (see wsgi.py)."""
import dataclasses

BENCH_LIMIT = 10**9


def raise_public_lookup_limits() -> None:
    from pages import throttle

    # The views read ``throttle.LOOKUPS`` / ``throttle.UNKNOWN`` at call time, so rebinding the
    # module attributes is enough. Same names, same windows, same Redis keys: only the limit moves.
    throttle.LOOKUPS = dataclasses.replace(throttle.LOOKUPS, limit=BENCH_LIMIT)
    throttle.UNKNOWN = dataclasses.replace(throttle.UNKNOWN, limit=BENCH_LIMIT)
