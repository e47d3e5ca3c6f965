"""Sessions read from Redis and written through to PostgreSQL (Django's ``cached_db``), which keep
working when Redis does not.

Django's ``cached_db`` already falls back to the database when reading the cache fails, but then
writes the session back to the cache unguarded, and asks the cache whether a new key is taken and
deletes the cached copy unguarded: with Redis
down every logged-in page, and every logout, would answer 500. Here both are logged and skipped:
the database row is the record, so a page still knows who is logged in, and a logout still
deletes the row. A cached copy that could not be deleted would still log its holder in until it
expires, so that delete is tried twice and then logged as an error for someone to act on.
"""
import logging

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


# Sessions started before ``accounts.backends.UserBackend`` name Django's ModelBackend, which it is
# with one read compiled once: read as UserBackend's, so a deploy logs nobody out.
_RENAMED_BACKENDS = {"django.contrib.auth.backends.ModelBackend": "accounts.backends.UserBackend"}


def _current_backend(data: dict) -> dict:
    renamed = _RENAMED_BACKENDS.get(str(data.get(BACKEND_SESSION_KEY, "")))
    if renamed is not None:
        data[BACKEND_SESSION_KEY] = renamed
    return data


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - Redis unreachable: the database is the record
            logger.warning("session cache unreadable; reading the session from the database", exc_info=True)
            data = None
        if data is not None:
            return _current_backend(data)
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:  # noqa: BLE001 - the page works from the database; the cache refills later
            logger.warning("session cache unwritable", exc_info=True)
        return _current_backend(data)

    def exists(self, session_key):
        """Is this key taken (a new session's key must not be)? The database answers when Redis cannot."""
        from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:  # noqa: BLE001 - Redis unreachable: the database is the record
            logger.warning("session cache unreadable; asking the database", exc_info=True)
        return DatabaseStore.exists(self, session_key)

    def delete(self, session_key=None):
        from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

        DatabaseStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        for attempt in (1, 2):
            try:
                self._cache.delete(self.cache_key_prefix + session_key)
                return
            except Exception:  # noqa: BLE001 - the row is gone; the cached copy is retried, then reported
                if attempt == 2:
                    logger.error("session %s… ended in the database but its cached copy could not be deleted",
                                 session_key[:6], exc_info=True)


def sessions_end(session_keys) -> None:
    """End these sessions wherever they are kept (database row and cached copy), for code that ends
    another person's sessions (account erasure): the configured engine's own ``delete``."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in session_keys:
        if key:
            store(session_key=key).delete()
