"""Django's Redis cache, with one Redis client object per connection pool instead of one per call,
and that client holding one connection of its own.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` on every cache call (about 80
response callbacks copied each time, visible in the Cek Transaksi profile); the object only wraps
the pool, so it is built once per pool here and reused.

**One connection per client.** A pooled call takes a connection from the pool and gives it back: a
lock, a process-id check, and a look at the socket for a closed connection or a stale reply (three
system calls) every time; on this kind of machine that cost about as much as the round trip's own
Python work (``benchmarks/README.md``). The client made here keeps one connection
(``single_connection_client``; redis-py serialises its use with a lock) and makes the same look at
the socket, in one system call, before a command sent after the connection was idle
(``_OneConnectionRedis``). It is safe because:

* Django keeps one cache backend per thread, so a client (and its connection) is one thread's;
* a connection that was idle and that the server closed (an idle timeout, a restart) is dropped
  before the command is sent, as the pool would, so the command goes on a new one; one closed while
  busy fails the one command sent on it, never sent again (no retry): nothing counts twice;
* any failure of a command other than the server's own error reply drops the connection (redis-py
  does so for errors while reading; ``_OneConnectionRedis`` also for an exception raised between the
  send and the read, such as Celery's soft time limit), so no unread reply is ever left on it for the
  next command;
* after a fork (gunicorn with ``--preload``, Celery's prefork pool) the child forgets every client
  (``_forget_clients_in_child``), so no two processes ever share a socket; the pools reset
  themselves (redis-py checks the process id on every pool call).

Pipelines (``MULTI``/``EXEC``) take their own connection from the pool, as before.

``redis_client(backend)`` is the one way the rest of the code reaches the raw client, and
``lua_script(client, source)`` the one way it runs a Lua script on it (``intrasa.ratelimit``,
``pages.public_cache``).
"""
import os
import socket
import ssl
import time
import weakref

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


def _closed_or_holding_data(connection) -> bool:
    """Whether the server closed ``connection`` or it holds bytes no command is waiting for: what the
    pool checks before lending a connection (``can_read``), here in one ``recv`` that peeks without
    waiting and takes nothing. Whatever goes wrong while looking counts as closed: a new connection is
    always safe."""
    sock = connection._sock
    if sock is None:
        return False  # not connected: the next send connects
    try:
        if isinstance(sock, ssl.SSLSocket) or sock.gettimeout() is not None:
            # TLS refuses recv flags, and with a timeout Python would wait for data first: the pool's way.
            return bool(connection.can_read())
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        return True  # b"": closed by the server; else bytes of a reply nobody read
    except BlockingIOError:
        return False  # nothing to read: ready for a command
    except Exception:  # closed (redis.ConnectionError), OSError, ValueError…
        return True


# A connection used this recently is taken to be open without a look (the look is a system call, as
# dear as the command's own Python work here). A server that closed it meanwhile (a restart under
# traffic) fails the one command then sent on it; that command is never sent again (no retry), so
# nothing counts twice, and the request fails as it would while Redis restarts. A connection idle
# longer (an idle timeout on the server, a quiet night) is looked at first and replaced if closed.
LOOK_AFTER_IDLE_SECONDS = 1.0


class _OneConnectionRedis(redis.Redis):
    """``redis.Redis`` with ``single_connection_client``, looking at its connection before a command
    after it was idle (see the module's docstring and ``LOOK_AFTER_IDLE_SECONDS``)."""

    _used_at = float("-inf")

    def execute_command(self, *args, **options):
        with self.single_connection_lock:  # reentrant: the command below takes it again
            connection = self.connection
            now = time.monotonic()
            if (connection is not None and now - self._used_at > LOOK_AFTER_IDLE_SECONDS
                    and _closed_or_holding_data(connection)):
                connection.disconnect()  # the command below connects again before it is sent
            self._used_at = now
            try:
                return super().execute_command(*args, **options)
            except redis.ResponseError:
                raise  # the server's answer, read whole: the connection is clean
            except BaseException:
                # Anything else may have left a reply unread (an exception raised between the send and
                # the read, such as Celery's soft time limit): the next command must never read it.
                if self.connection is not None:
                    self.connection.disconnect()
                raise


_cache_clients: "weakref.WeakSet[ReusedClientRedisCacheClient]" = weakref.WeakSet()


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._client = _OneConnectionRedis
        _cache_clients.add(self)

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = self._client(connection_pool=pool, single_connection_client=True)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient


# Clients of other cache backends (Django's own RedisCache, in a test that overrides CACHES): built
# once per backend here, pooled, so they stay safe however that backend is shared.
_other_clients: "weakref.WeakKeyDictionary[DjangoRedisCache, object]" = weakref.WeakKeyDictionary()


def redis_client(backend: DjangoRedisCache):
    """The raw ``redis.Redis`` behind ``backend`` (this thread's cache backend instance)."""
    cache_client = backend._cache
    if isinstance(cache_client, ReusedClientRedisCacheClient):
        return cache_client.get_client(write=True)
    client = _other_clients.get(backend)
    if client is None:
        client = _other_clients[backend] = cache_client.get_client(write=True)
    return client


def lua_script(client, source: str):
    """``source`` registered once per Redis client (``EVALSHA``: one round trip a call, the script loaded
    again by redis-py if the server lost it). Kept on the client itself, so it goes with the client: a
    registry keyed by client would keep every client, and now its connection, alive (a registered script
    refers back to its client)."""
    scripts = client.__dict__.setdefault("intrasa_lua_scripts", {})
    script = scripts.get(source)
    if script is None:
        script = scripts[source] = client.register_script(source)
    return script


def _forget_clients_in_child() -> None:
    """In a forked child, drop the clients (and so the connections) inherited from the parent: the
    parent goes on using those sockets. A dropped connection closes this process's copy of its socket
    without shutting it down (redis-py compares process ids), so the parent's stays open. The pools
    are not touched here (they reset themselves on their next use in this process)."""
    for cache_client in list(_cache_clients):
        for client in cache_client._clients.values():
            client.connection = None  # dropped with the client, not given back to the parent's pool
        cache_client._clients = {}
    _other_clients.clear()


os.register_at_fork(after_in_child=_forget_clients_in_child)
