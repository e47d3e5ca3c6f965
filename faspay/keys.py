"""Where the SNAP key material comes from: INTRASA's merchant key pair and Faspay's public key.

Production reads PEM files named by settings (``SENDME_PRIVATE_KEY_PATH``,
``SENDME_PUBLIC_KEY_PATH``, ``SENDME_FASPAY_PUBLIC_KEY_PATH``); development and the sandbox get a
pair generated once under ``var/keys/`` (gitignored). Keys are loaded once per process. This module
reads Django settings and nothing else of the project.
"""
from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from .signing import (
    AsymmetricSigner,
    PrivateKey,
    PublicKey,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
)


@dataclass(frozen=True)
class KeyPair:
    private_key: PrivateKey
    public_key: PublicKey

    @property
    def public_pem(self) -> bytes:
        return public_key_pem(self.public_key)


def generate_key_pair(bits: int = 2048) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return KeyPair(private_key=key, public_key=key.public_key())


def load_or_generate_key_pair(key_dir: Path, name: str) -> KeyPair:
    """A development key pair kept in ``key_dir/<name>-private.pem`` (+ ``-public.pem``).

    Generated on first use and reused afterwards. The private file is written to a temporary
    file and hard-linked into place, so two processes starting together end up with one pair.
    """
    key_dir = Path(key_dir)
    key_dir.mkdir(parents=True, exist_ok=True)
    private_path = key_dir / f"{name}-private.pem"
    public_path = key_dir / f"{name}-public.pem"
    if not private_path.exists():
        pair = generate_key_pair()
        fd, tmp = tempfile.mkstemp(dir=key_dir, prefix=f".{name}-")
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(private_key_pem(pair.private_key))
            try:
                os.link(tmp, private_path)
            except FileExistsError:
                pass  # another process won the race; use its key
        finally:
            os.unlink(tmp)
    private_key = load_private_key(private_path.read_bytes())
    public_key = private_key.public_key()
    pem = public_key_pem(public_key)
    if not public_path.exists() or public_path.read_bytes() != pem:
        public_path.write_bytes(pem)
    return KeyPair(private_key=private_key, public_key=public_key)


_key_cache: dict[tuple, KeyPair] = {}
# Public keys loaded on their own (the private key lives elsewhere); same lock, cleared together.
_public_key_cache: dict[tuple[str, str], PublicKey] = {}
_key_cache_lock = threading.Lock()


def _dev_keys_allowed(settings) -> bool:
    return bool(settings.DEBUG or getattr(settings, "FASPAY_SANDBOX_ENABLED", False))


def dev_key_dir(settings) -> Path:
    """Where development key pairs are generated (``SNAP_DEV_KEY_DIR`` or ``var/keys``)."""
    configured = getattr(settings, "SNAP_DEV_KEY_DIR", "")
    if configured:
        return Path(configured)
    return Path(getattr(settings, "VAR_DIR", Path.cwd() / "var")) / "keys"


def dev_key_pair(name: str) -> KeyPair:
    """A generated development key pair by name (``var/keys/<name>-*.pem``), cached per process.

    Refused outside development: a generated key in production would be a silent misconfiguration.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not _dev_keys_allowed(settings):
        raise ImproperlyConfigured(
            f"No key configured for {name!r} and DEBUG/FASPAY_SANDBOX_ENABLED are off; "
            "development keys are never generated in production."
        )
    key_dir = dev_key_dir(settings)
    cache_key = ("dev", str(key_dir), name)
    with _key_cache_lock:
        if cache_key not in _key_cache:
            _key_cache[cache_key] = load_or_generate_key_pair(key_dir, name)
        return _key_cache[cache_key]


def _load_configured_pair(private_path: str, public_path: str) -> KeyPair:
    cache_key = ("files", private_path, public_path)
    with _key_cache_lock:
        if cache_key not in _key_cache:
            private_key = load_private_key(Path(private_path).read_bytes())
            public_key = (load_public_key(Path(public_path).read_bytes()) if public_path
                          else private_key.public_key())
            if public_key.public_numbers() != private_key.public_key().public_numbers():
                from django.core.exceptions import ImproperlyConfigured

                raise ImproperlyConfigured(
                    "SENDME_PUBLIC_KEY_PATH does not belong to SENDME_PRIVATE_KEY_PATH")
            _key_cache[cache_key] = KeyPair(private_key=private_key, public_key=public_key)
        return _key_cache[cache_key]


def merchant_key_pair() -> KeyPair:
    """INTRASA's SendMe key pair (``SENDME_PRIVATE_KEY_PATH`` / ``SENDME_PUBLIC_KEY_PATH``).

    With no paths configured, development and the sandbox get a pair generated once under
    ``var/keys/`` (gitignored); production gets :class:`ImproperlyConfigured`.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    private_path = getattr(settings, "SENDME_PRIVATE_KEY_PATH", "") or ""
    public_path = getattr(settings, "SENDME_PUBLIC_KEY_PATH", "") or ""
    if private_path:
        return _load_configured_pair(private_path, public_path)
    if public_path:
        raise ImproperlyConfigured("SENDME_PUBLIC_KEY_PATH is set but SENDME_PRIVATE_KEY_PATH is not.")
    if not _dev_keys_allowed(settings):
        raise ImproperlyConfigured(
            "Set SENDME_PRIVATE_KEY_PATH (and SENDME_PUBLIC_KEY_PATH) to the merchant's PEM key "
            "files; a key pair is generated automatically only with DEBUG or the sandbox enabled."
        )
    return dev_key_pair("sendme-merchant")


def merchant_public_key() -> PublicKey:
    """The merchant public key, as the sandbox uses it to verify INTRASA's requests.

    Only ``SENDME_PUBLIC_KEY_PATH`` is needed when the private key lives elsewhere.
    """
    from django.conf import settings

    private_path = getattr(settings, "SENDME_PRIVATE_KEY_PATH", "") or ""
    public_path = getattr(settings, "SENDME_PUBLIC_KEY_PATH", "") or ""
    if public_path and not private_path:
        cache_key = ("public", public_path)
        with _key_cache_lock:
            if cache_key not in _public_key_cache:
                _public_key_cache[cache_key] = load_public_key(Path(public_path).read_bytes())
            return _public_key_cache[cache_key]
    return merchant_key_pair().public_key


FASPAY_SANDBOX_KEY_NAME = "faspay-sandbox"


def faspay_public_key() -> PublicKey:
    """Faspay's public key, to verify callbacks signed by Faspay (or by the sandbox).

    ``SENDME_FASPAY_PUBLIC_KEY_PATH`` when set; otherwise, in development, the sandbox's own
    generated key (``var/keys/faspay-sandbox-public.pem``), so callbacks verify out of the box.
    """
    from django.conf import settings

    path = getattr(settings, "SENDME_FASPAY_PUBLIC_KEY_PATH", "") or ""
    if path:
        cache_key = ("public", path)
        with _key_cache_lock:
            if cache_key not in _public_key_cache:
                _public_key_cache[cache_key] = load_public_key(Path(path).read_bytes())
            return _public_key_cache[cache_key]
    return dev_key_pair(FASPAY_SANDBOX_KEY_NAME).public_key


def clear_key_cache() -> None:
    """Forget loaded keys (tests that swap key settings call this)."""
    with _key_cache_lock:
        _key_cache.clear()
        _public_key_cache.clear()


def default_signer() -> AsymmetricSigner:
    return AsymmetricSigner(private_key=merchant_key_pair().private_key)
