"""One webhook attempt takes at most its deadline (connect + read timeout) in all. The timeouts bound each
socket operation only: an endpoint that trickles its answer, one byte just within the read timeout, held a
worker for hours, and the event's lease ran out while the attempt still ran, so a second delivery started
beside it (hostile review: two deliveries 33 s apart with 1 s timeouts)."""
import socket
import threading
import time

import pytest

from partners import webhook_http


class Trickler:
    """An endpoint that sends ``head`` then one byte of ``rest`` every ``every`` seconds."""

    def __init__(self, head: bytes, rest: bytes, every: float):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stop = threading.Event()

        def serve():
            try:
                conn, _address = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                    conn.sendall(head)
                    for byte in rest:
                        if self.stop.wait(every):
                            return
                        conn.sendall(bytes([byte]))
                except OSError:
                    return

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.listener.close()


@pytest.fixture
def quick_timeouts(settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = True  # the endpoint is on loopback in the test
    settings.PARTNER_WEBHOOK_CONNECT_TIMEOUT = 1.0
    settings.PARTNER_WEBHOOK_READ_TIMEOUT = 1.0


@pytest.mark.parametrize("head, rest", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n", b"x" * 40),  # the body trickles
    (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"y" * 40 + b"\r\n\r\n"),  # the headers trickle
], ids=["body", "headers"])
def test_a_trickled_answer_fails_the_attempt_at_its_deadline(quick_timeouts, head, rest):
    endpoint = Trickler(head, rest, every=0.5)
    started = time.monotonic()
    try:
        result = webhook_http.post(url=endpoint.url, body=b"{}", headers={})
    finally:
        endpoint.close()
    took = time.monotonic() - started
    assert not result.succeeded and result.status_code is None
    assert "no complete answer within 2 s" in result.error
    assert 1.9 <= took < 3.5  # the deadline (2 s), not 20 s of trickle
    assert webhook_http.attempt_deadline() + 30 > took  # the event's lease outlives the attempt


def test_a_prompt_answer_is_not_affected(quick_timeouts):
    endpoint = Trickler(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"", every=0.0)
    try:
        result = webhook_http.post(url=endpoint.url, body=b"{}", headers={})
    finally:
        endpoint.close()
    assert result.succeeded and result.excerpt == "ok"
