"""What production refuses to start without: system checks of the provider configuration.

With the credentials the sandbox ships (or none at all) anyone can sign a Faspay notification and
move a bill to paid; without Faspay's public key every SendMe callback is unverifiable; with the
sandbox's or the test suite's keys anyone holding the repository can sign as Faspay or as INTRASA.
So when DEBUG is off these are ``Error``-level checks, tagged ``provider_config``:

========== ================================================================================
id         refuses
========== ================================================================================
intrasa.E001  empty Faspay Debit credentials (``FASPAY_MERCHANT_ID``, ``FASPAY_USER_ID``, ``FASPAY_PASSWORD``)
intrasa.E002  the sandbox's default Debit credentials (``FASPAY_USER_ID`` / ``FASPAY_PASSWORD``)
intrasa.E003  no SendMe key pair (``SENDME_PRIVATE_KEY_PATH`` and ``SENDME_PUBLIC_KEY_PATH``)
intrasa.E004  no Faspay public key for SendMe callbacks (``SENDME_FASPAY_PUBLIC_KEY_PATH``)
intrasa.E005  a configured key file that cannot be read, is not a PEM key, or does not match its pair
intrasa.E006  a key of the sandbox (generated under ``var/keys``) or of the test suite (``tests/data``)
intrasa.E007  a Faspay base URL pointing at the built-in sandbox (``…/sandbox/…``)
========== ================================================================================

A deliberate staging set-up that runs the built-in sandbox with DEBUG off
(``FASPAY_SANDBOX_ENABLED`` and ``FASPAY_SANDBOX_ALLOW_IN_PRODUCTION``) talks to that sandbox, whose
keys are generated: E003–E007 do not apply there, E001/E002 still do (the sandbox then checks the
configured credentials, so they need not be the published ones) and the sandbox's own checks
(``sandbox.E001``–``E003``) require operator credentials.

They are registered without ``deploy=True``, so they run with ``check`` and ``check --deploy``
and before ``migrate`` and ``runserver``; and because Django does not run checks in the WSGI
stack, ``refuse_to_start_with_errors`` runs them when gunicorn loads ``intrasa.wsgi`` and when a
Celery worker or beat starts.
"""
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "provider_config"
SANDBOX_DEBIT_USER_ID = "bot99999"
SANDBOX_DEBIT_PASSWORD = "sandbox-password"
SANDBOX_PATH = re.compile(r"(^|/)sandbox(/|$)")
KEY_SETTINGS = ("SENDME_PRIVATE_KEY_PATH", "SENDME_PUBLIC_KEY_PATH", "SENDME_FASPAY_PUBLIC_KEY_PATH")


def _production() -> bool:
    return not settings.DEBUG


def _sandbox_staging() -> bool:
    return bool(getattr(settings, "FASPAY_SANDBOX_ENABLED", False)
                and getattr(settings, "FASPAY_SANDBOX_ALLOW_IN_PRODUCTION", False))


def _hint_env(name: str) -> str:
    return f"Set {name} in the environment (see .env.example and the README's Deployment section)."


def check_faspay_debit_credentials(app_configs=None, **kwargs):
    if not _production():
        return []
    errors = []
    empty = [name for name in ("FASPAY_MERCHANT_ID", "FASPAY_USER_ID", "FASPAY_PASSWORD")
             if not str(getattr(settings, name, "") or "").strip()]
    if empty:
        errors.append(checks.Error(
            f"Faspay Debit credentials are empty: {', '.join(empty)}.",
            hint="Without them no notification can be verified. " + _hint_env(empty[0]), id="intrasa.E001"))
    published = [name for name, value in (("FASPAY_USER_ID", SANDBOX_DEBIT_USER_ID),
                                          ("FASPAY_PASSWORD", SANDBOX_DEBIT_PASSWORD))
                 if getattr(settings, name, "") == value]
    if published:
        errors.append(checks.Error(
            f"{', '.join(published)} still hold the sandbox's published default.",
            hint="Anyone can sign a payment notification with them. Use the credentials Faspay issued.",
            id="intrasa.E002"))
    return errors


def _path_problem(path: str, kind: str) -> str:
    from faspay import signing

    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.__class__.__name__})"
    try:
        if kind == "private":
            signing.load_private_key(pem)
        else:
            signing.load_public_key(pem)
    except (ValueError, TypeError):
        return f"is not a PEM {kind} key"
    return ""


def _public_numbers(path: str, kind: str):
    from faspay import signing

    pem = Path(path).read_bytes()
    key = signing.load_private_key(pem).public_key() if kind == "private" else signing.load_public_key(pem)
    return key.public_numbers()


def _known_key_files() -> list[Path]:
    """The keys anyone with the repository has: the test suite's and the sandbox's generated ones."""
    from faspay.keys import dev_key_dir

    folders = [Path(settings.BASE_DIR) / "tests" / "data", dev_key_dir(settings)]
    return [pem for folder in folders if folder.is_dir() for pem in sorted(folder.glob("*.pem"))]


def _known_public_numbers() -> set:
    from faspay import signing

    numbers = set()
    for pem_path in _known_key_files():
        pem = pem_path.read_bytes()
        for load in (lambda data: signing.load_private_key(data).public_key(), signing.load_public_key):
            try:
                numbers.add(load(pem).public_numbers())
                break
            except (ValueError, TypeError):
                continue
    return numbers


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_sendme_keys(app_configs=None, **kwargs):
    if not _production() or _sandbox_staging():
        return []
    from faspay.keys import dev_key_dir

    errors = []
    missing = [name for name in ("SENDME_PRIVATE_KEY_PATH", "SENDME_PUBLIC_KEY_PATH")
               if not str(getattr(settings, name, "") or "").strip()]
    if missing:
        errors.append(checks.Error(
            f"The SendMe key pair is not configured: {', '.join(missing)}.",
            hint="INTRASA signs every SendMe request with its private key; Faspay holds the public one. "
                 + _hint_env(missing[0]), id="intrasa.E003"))
    if not str(getattr(settings, "SENDME_FASPAY_PUBLIC_KEY_PATH", "") or "").strip():
        errors.append(checks.Error(
            "SENDME_FASPAY_PUBLIC_KEY_PATH is not set: SendMe callbacks cannot be verified.",
            hint="Point it at the public key Faspay gave you for SendMe callbacks (not INTRASA's own key).",
            id="intrasa.E004"))
    kinds = {"SENDME_PRIVATE_KEY_PATH": "private", "SENDME_PUBLIC_KEY_PATH": "public",
             "SENDME_FASPAY_PUBLIC_KEY_PATH": "public"}
    usable = {}
    for name in KEY_SETTINGS:
        path = str(getattr(settings, name, "") or "").strip()
        if not path:
            continue
        if any(_is_inside(Path(path), folder) for folder in (Path(settings.BASE_DIR) / "tests" / "data",
                                                            dev_key_dir(settings))):
            errors.append(checks.Error(f"{name} points at a sandbox or test key ({path}).",
                                       hint="These keys are public (in the repository or generated for "
                                            "development). Use the production keys.", id="intrasa.E006"))
            continue
        problem = _path_problem(path, kinds[name])
        if problem:
            errors.append(checks.Error(f"{name} ({path}) {problem}.", hint=_hint_env(name), id="intrasa.E005"))
        else:
            usable[name] = _public_numbers(path, kinds[name])
    known = _known_public_numbers() if usable else set()
    for name, numbers in usable.items():
        if numbers in known:
            errors.append(checks.Error(f"{name} holds a copy of a sandbox or test key.",
                                       hint="Anyone with the repository has this key. Use the production keys.",
                                       id="intrasa.E006"))
    private, public = usable.get("SENDME_PRIVATE_KEY_PATH"), usable.get("SENDME_PUBLIC_KEY_PATH")
    if private is not None and public is not None and private != public:
        errors.append(checks.Error("SENDME_PUBLIC_KEY_PATH is not the public half of SENDME_PRIVATE_KEY_PATH.",
                                   hint="Give INTRASA's own key pair; Faspay's key goes in "
                                        "SENDME_FASPAY_PUBLIC_KEY_PATH.", id="intrasa.E005"))
    faspay = usable.get("SENDME_FASPAY_PUBLIC_KEY_PATH")
    if faspay is not None and faspay in (private, public):
        errors.append(checks.Error("SENDME_FASPAY_PUBLIC_KEY_PATH is INTRASA's own key, not Faspay's.",
                                   hint="Callbacks signed by Faspay could never verify, and anyone holding "
                                        "INTRASA's key could sign them.", id="intrasa.E005"))
    return errors


def check_base_urls_not_sandbox(app_configs=None, **kwargs):
    if not _production() or _sandbox_staging():
        return []
    errors = []
    for name in ("FASPAY_DEBIT_BASE_URL", "SENDME_BASE_URL"):
        url = str(getattr(settings, name, "") or "")
        if SANDBOX_PATH.search(urlsplit(url).path):
            errors.append(checks.Error(
                f"{name} points at the built-in Faspay sandbox ({url}).",
                hint="Use Faspay's production host (README), or set FASPAY_SANDBOX_ENABLED and "
                     "FASPAY_SANDBOX_ALLOW_IN_PRODUCTION for a deliberate staging set-up.", id="intrasa.E007"))
    return errors


PROVIDER_CHECKS = (check_faspay_debit_credentials, check_sendme_keys, check_base_urls_not_sandbox)


def register() -> None:
    for check in PROVIDER_CHECKS:
        checks.register(check, TAG, checks.Tags.security)


def refuse_to_start_with_errors() -> None:
    """Raise ``ImproperlyConfigured`` when a provider-configuration check fails (production
    processes call this on start: Django runs no checks in the WSGI stack or in Celery)."""
    if settings.DEBUG:
        return
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("INTRASA refuses to start:\n" + "\n".join(str(error) for error in errors))
