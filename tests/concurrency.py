"""One way for the suite to race real callers against PostgreSQL: each call in its own thread (so its
own database connection), all released together by a barrier."""
import threading

from django.db import connections

from intrasa.errors import ServiceError


def race(*calls, timeout: float = 60) -> list:
    """Run ``calls`` at once; return, in the order given, what each did: "ok", the code of the
    ``ServiceError`` it raised, or ``None`` for any other exception (no outcome)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except ServiceError as exc:
            outcomes[index] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
