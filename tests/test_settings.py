"""Production settings pass Django's deployment checks and refuse to run without secrets."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
             and not k.startswith(("FASPAY_", "SENDME_"))}
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def write_key_pair(folder: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key pair as PEM files (``name-private.pem``, ``name-public.pem``)."""
    from faspay import keys, signing

    pair = keys.generate_key_pair()
    private, public = folder / f"{name}-private.pem", folder / f"{name}-public.pem"
    private.write_bytes(signing.private_key_pem(pair.private_key))
    public.write_bytes(pair.public_pem)
    return private, public


def production_environment(folder: Path) -> dict:
    """What a production deployment sets (README, Deployment): its own secret, hosts, Faspay
    credentials and keys."""
    merchant_private, merchant_public = write_key_pair(folder, "intrasa-sendme")
    _faspay_private, faspay_public = write_key_pair(folder, "faspay-callbacks")
    return {
        "DJANGO_SETTINGS_MODULE": "intrasa.settings.production",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-0123456789",
        "ALLOWED_HOSTS": "intrasa.example.co.id", "SITE_URL": "https://intrasa.example.co.id",
        "FASPAY_MERCHANT_ID": "31234", "FASPAY_USER_ID": "bot31234", "FASPAY_PASSWORD": "p@ssw0rd-from-faspay",
        "SENDME_PRIVATE_KEY_PATH": str(merchant_private), "SENDME_PUBLIC_KEY_PATH": str(merchant_public),
        "SENDME_FASPAY_PUBLIC_KEY_PATH": str(faspay_public),
    }


def test_production_settings_pass_check_deploy(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_environment(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_the_development_secret():
    result = manage("check", DJANGO_SETTINGS_MODULE="intrasa.settings.production")
    assert result.returncode != 0
    assert "Set SECRET_KEY in production" in result.stderr


def test_migrations_are_complete():
    result = manage("makemigrations", "--check", "--dry-run", DJANGO_SETTINGS_MODULE="intrasa.settings.base",
                    DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stdout + result.stderr


def test_graph_transitions_draws_the_state_machine():
    result = manage("graph_transitions", "transactions.EscrowTransaction",
                    DJANGO_SETTINGS_MODULE="intrasa.settings.base", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr
    for state in ("created", "paid", "verified", "shipped", "confirmed", "disbursed", "refunded",
                  "disputed", "cancelled", "expired"):
        assert f".{state}" in result.stdout


def test_every_environment_variable_is_documented_in_the_readme():
    import re

    settings_source = (ROOT / "intrasa" / "settings" / "base.py").read_text()
    readme = (ROOT / "README.md").read_text()
    variables = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_source))
    assert len(variables) > 30
    assert not {name for name in variables if f"`{name}`" not in readme and name not in readme}


def test_every_task_has_a_queue_of_its_kind_and_one_worker_still_runs_them_all():
    """Task routes per kind of job (README, "Scaling out"): each project task lands on a declared
    queue, money in flight on its own; a worker started without ``-Q`` consumes every queue."""
    from django.conf import settings

    from intrasa.celery import app

    app.loader.import_default_modules()
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    routed = {}
    for name in app.tasks:
        if name.startswith("celery."):
            continue
        route = app.amqp.router.route({}, name)
        routed[name] = route["queue"].name
        assert routed[name] in declared, name
    assert routed["disbursements.tasks.dispatch_due_disbursements"] == "payouts"
    assert routed["disbursements.tasks.resolve_due_disbursements"] == "payouts"
    assert routed["escrow.tasks.poll_pending_bills"] == "collections"
    assert routed["notifications.tasks.send_notification_email"] == "email"
    assert routed["ledger.tasks.nightly_ledger_check"] == "housekeeping"
    assert routed["escrow.tasks.auto_confirm_due_transactions"] == "celery"
    assert set(app.amqp.queues) >= declared  # what `celery worker` without -Q consumes
