"""intrasa.cache: each thread's cache client keeps one Redis connection of its own (no pool round per
call), replaces it after an error, and a forked child never uses its parent's (gunicorn ``--preload``,
Celery's prefork pool). On the suite's real Redis."""
import os
import select

import pytest
import redis
from django.core.cache import cache, caches

from intrasa import ratelimit
from intrasa.cache import redis_client


def _warm():
    cache.set("connection-probe", 1)
    return redis_client(caches["default"])


def test_cache_calls_and_scripts_use_the_clients_own_connection(monkeypatch):
    client = _warm()
    taken = []
    get_connection = redis.ConnectionPool.get_connection

    def counting(pool, *args, **kwargs):
        taken.append(1)
        return get_connection(pool, *args, **kwargs)

    limit = ratelimit.RateLimit("own-connection", limit=50, window=60)
    limit.hit_unless(ratelimit.RateLimit("own-connection-blocker", limit=5, window=60), "a")  # scripts registered
    with monkeypatch.context() as patch:
        patch.setattr(redis.ConnectionPool, "get_connection", counting)
        for n in range(5):
            cache.set("connection-probe", n)
            assert cache.get("connection-probe") == n
            refused, _values = limit.hit_unless(ratelimit.RateLimit("own-connection-blocker", limit=5, window=60), "a")
            assert refused is None
    assert taken == []
    assert client.connection is not None and redis_client(caches["default"]) is client


def _idle(client):
    """As if the connection had not been used for longer than ``LOOK_AFTER_IDLE_SECONDS``."""
    client._used_at = float("-inf")


def test_an_idle_connection_the_server_closed_is_replaced_before_the_command_is_sent():
    client = _warm()
    own_id = client.client_id()
    with redis.Redis.from_url(_url()) as other:
        assert other.client_kill_filter(_id=own_id) == 1
    _idle(client)
    cache.set("connection-probe", 7)
    assert cache.get("connection-probe") == 7
    assert client.client_id() != own_id


def test_a_busy_connection_the_server_closed_fails_one_command_never_sent_twice():
    client = _warm()
    limit, blocker = ratelimit.RateLimit("killed-count", limit=50, window=60), ratelimit.RateLimit("killed-b", 5, 60)
    limit.hit_unless(blocker, "k")
    with redis.Redis.from_url(_url()) as other:
        other.client_kill_filter(_id=client.client_id())
    with pytest.raises(redis.ConnectionError):
        limit.hit_unless(blocker, "k")  # the request fails, as while Redis restarts
    assert limit.count("k") == 2  # the next command works: the first hit and this count, nothing doubled


def test_an_exception_between_send_and_read_leaves_no_reply_for_the_next_command(monkeypatch):
    client = _warm()
    cache.set("connection-probe", 5)
    cache.set("connection-probe-other", 6)
    parse = redis.Redis.parse_response
    interrupted = []

    def interrupted_once(self, *args, **kwargs):
        if not interrupted:
            interrupted.append(1)
            raise KeyboardInterrupt  # as a signal's exception lands between the send and the read
        return parse(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(redis.Redis, "parse_response", interrupted_once)
        with pytest.raises(KeyboardInterrupt):
            cache.get("connection-probe")
        assert cache.get("connection-probe-other") == 6  # not 5, the reply left behind
    assert client.connection is not None


def test_a_reply_nobody_read_is_never_taken_for_the_next_command_after_idle():
    client = _warm()
    cache.set("connection-probe", 5)
    client.connection.send_command("PING")  # its PONG is left on the connection, unread (not the API)
    # As after the idle time the look is for: the reply has arrived. Under a loaded suite Redis can take
    # longer than this line to answer, and the look would rightly find nothing to read yet.
    ready, _, _ = select.select([client.connection._sock], [], [], 5)
    assert ready
    _idle(client)
    assert cache.get("connection-probe") == 5  # not b"PONG": the connection was replaced first


def _url() -> str:
    from django.conf import settings

    return settings.CACHES["default"]["LOCATION"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_open():
    client = _warm()
    parent_id = client.client_id()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            child_client = redis_client(caches["default"])
            cache.set("connection-probe-child", 2)
            os.write(write_end, f"{child_client.client_id()} {cache.get('connection-probe-child')}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    answer = os.read(read_end, 100).decode()
    os.close(read_end)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child_id, value = answer.split()
    assert value == "2"
    assert int(child_id) != parent_id
    # The parent's connection was neither shut down nor used by the child: same id, still answering.
    cache.set("connection-probe", 3)
    assert cache.get("connection-probe") == 3
    assert client.client_id() == parent_id


def test_with_a_socket_timeout_an_idle_connection_the_server_closed_is_replaced():
    """With a socket timeout (or TLS) the look is the pool's ``can_read``: a closed connection raises there,
    which must count as closed, not fail every later command of the thread."""
    client = _warm()
    client.connection._sock.settimeout(5)
    with redis.Redis.from_url(_url()) as other:
        other.client_kill_filter(_id=client.client_id())
    for value in (8, 9):
        _idle(client)
        cache.set("connection-probe", value)
        assert cache.get("connection-probe") == value


def test_a_look_that_fails_in_any_way_counts_as_closed(monkeypatch):
    """TLS sockets refuse recv flags (ValueError); whatever the look raises, the command goes on a new connection."""
    client = _warm()
    client.connection._sock.settimeout(5)

    def refusing(self, *args, **kwargs):
        raise ValueError("non-zero flags not allowed in calls to recv() on <class 'ssl.SSLSocket'>")

    with monkeypatch.context() as patch:
        patch.setattr(redis.connection.AbstractConnection, "can_read", refusing)
        for value in (10, 11, 12):
            _idle(client)
            cache.set("connection-probe", value)
            assert cache.get("connection-probe") == value


def test_a_registered_script_goes_with_its_client():
    """Scripts are kept on the client, not in a registry that would keep every client and its connection alive."""
    import gc
    import weakref

    from intrasa.cache import lua_script

    client = redis.Redis.from_url(_url())
    assert lua_script(client, "return 7")() == 7
    assert lua_script(client, "return 7") is lua_script(client, "return 7")
    gone = weakref.ref(client)
    del client
    gc.collect()
    assert gone() is None
