"""Production refuses to start with provider configuration anyone could sign with.

Each bad configuration runs ``manage.py check --deploy`` with the production settings in a
subprocess (as ``tests/test_settings.py`` does) and must fail with the check's id; gunicorn's
entry point (``intrasa.wsgi``) and the Celery start-up hook refuse the same configuration, because
Django runs no checks in the WSGI stack.
"""
import os
import shutil
import subprocess
import sys

import pytest

from tests.test_settings import ROOT, manage, production_environment, write_key_pair

DATA = ROOT / "tests" / "data"


def bad(folder, **changes):
    env = production_environment(folder)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def copy_of(source, folder):
    target = folder / "copied-key.pem"
    shutil.copyfile(source, target)
    return str(target)


def not_a_key(folder):
    target = folder / "not-a-key.pem"
    target.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    return str(target)


CASES = {
    "empty Debit credentials (.env.example as shipped)": (
        lambda tmp: {"FASPAY_MERCHANT_ID": "", "FASPAY_USER_ID": "", "FASPAY_PASSWORD": ""}, "intrasa.E001"),
    "the sandbox's default Debit credentials": (
        lambda tmp: {"FASPAY_USER_ID": None, "FASPAY_PASSWORD": None}, "intrasa.E002"),
    "the sandbox's default password only": (lambda tmp: {"FASPAY_PASSWORD": "sandbox-password"}, "intrasa.E002"),
    "no SendMe private key": (lambda tmp: {"SENDME_PRIVATE_KEY_PATH": None}, "intrasa.E003"),
    "no SendMe public key": (lambda tmp: {"SENDME_PUBLIC_KEY_PATH": ""}, "intrasa.E003"),
    "no Faspay public key for callbacks": (lambda tmp: {"SENDME_FASPAY_PUBLIC_KEY_PATH": None}, "intrasa.E004"),
    "a key file that does not exist": (
        lambda tmp: {"SENDME_FASPAY_PUBLIC_KEY_PATH": str(tmp / "missing.pem")}, "intrasa.E005"),
    "a key file that is not a key": (
        lambda tmp: {"SENDME_PRIVATE_KEY_PATH": not_a_key(tmp)}, "intrasa.E005"),
    "SENDME_PUBLIC_KEY_PATH pointing at Faspay's key (the old .env.example)": (
        lambda tmp: {"SENDME_PUBLIC_KEY_PATH": str(tmp / "faspay-callbacks-public.pem")}, "intrasa.E005"),
    "Faspay's key slot holding INTRASA's own key": (
        lambda tmp: {"SENDME_FASPAY_PUBLIC_KEY_PATH": str(tmp / "intrasa-sendme-public.pem")}, "intrasa.E005"),
    "the test suite's merchant key": (
        lambda tmp: {"SENDME_PRIVATE_KEY_PATH": str(DATA / "test-only-merchant-key.pkcs8.pem"),
                     "SENDME_PUBLIC_KEY_PATH": str(DATA / "test-only-merchant-key.public.pem")}, "intrasa.E006"),
    "a copy of the test suite's key elsewhere": (
        lambda tmp: {"SENDME_FASPAY_PUBLIC_KEY_PATH": copy_of(DATA / "test-only-merchant-key.public.pem", tmp)},
        "intrasa.E006"),
    "the sandbox's generated key": (
        lambda tmp: {"SENDME_FASPAY_PUBLIC_KEY_PATH": str(ROOT / "var" / "keys" / "faspay-sandbox-public.pem")},
        "intrasa.E006"),
    "Debit base URL on the built-in sandbox": (
        lambda tmp: {"FASPAY_DEBIT_BASE_URL": "https://intrasa.example.co.id/sandbox/debit"}, "intrasa.E007"),
    "SendMe base URL on the built-in sandbox": (
        lambda tmp: {"SENDME_BASE_URL": "https://intrasa.example.co.id/sandbox/sendme"}, "intrasa.E007"),
    "the sandbox enabled in production": (lambda tmp: {"FASPAY_SANDBOX_ENABLED": "true"}, "sandbox.E001"),
    "a staging sandbox without operator credentials": (
        lambda tmp: {"FASPAY_SANDBOX_ENABLED": "true", "FASPAY_SANDBOX_ALLOW_IN_PRODUCTION": "true"},
        "sandbox.E002"),
}


@pytest.mark.parametrize("label", sorted(CASES))
def test_check_deploy_refuses_the_configuration(tmp_path, label):
    changes, check_id = CASES[label]
    result = manage("check", "--deploy", **bad(tmp_path, **changes(tmp_path)))
    assert result.returncode != 0, result.stdout + result.stderr
    assert check_id in result.stdout + result.stderr


def test_the_checks_also_run_without_deploy_so_migrate_refuses_too(tmp_path):
    result = manage("check", **bad(tmp_path, FASPAY_PASSWORD=""))
    assert result.returncode != 0 and "intrasa.E001" in result.stderr


def test_a_deliberate_staging_sandbox_with_its_own_credentials_starts(tmp_path):
    env = bad(tmp_path, FASPAY_SANDBOX_ENABLED="true", FASPAY_SANDBOX_ALLOW_IN_PRODUCTION="true",
              FASPAY_SANDBOX_USERNAME="staging-operator", FASPAY_SANDBOX_PASSWORD="a-long-staging-password",
              SENDME_PRIVATE_KEY_PATH=None, SENDME_PUBLIC_KEY_PATH=None, SENDME_FASPAY_PUBLIC_KEY_PATH=None)
    result = manage("check", "--deploy", **env)
    assert result.returncode == 0, result.stdout + result.stderr


def start(module, env):
    """Import a production entry point the way gunicorn / Celery would, in a fresh process."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG") and not k.startswith(("FASPAY_", "SENDME_"))}
    code = {"wsgi": "import intrasa.wsgi",
            "celery": "import django; django.setup(); from intrasa.celery import refuse_to_start_misconfigured; "
                      "refuse_to_start_misconfigured()"}[module]
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("module", ["wsgi", "celery"])
def test_gunicorn_and_celery_refuse_to_start_misconfigured(tmp_path, module):
    refused = start(module, bad(tmp_path, FASPAY_USER_ID="", SENDME_FASPAY_PUBLIC_KEY_PATH=None))
    assert refused.returncode != 0
    assert "INTRASA refuses to start" in refused.stderr
    assert "intrasa.E001" in refused.stderr and "intrasa.E004" in refused.stderr
    started = start(module, production_environment(tmp_path))
    assert started.returncode == 0, started.stderr


def test_env_example_names_every_key_and_points_each_at_its_own_file():
    lines = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                 if "=" in line and not line.startswith("#"))
    paths = [lines[name] for name in ("SENDME_PRIVATE_KEY_PATH", "SENDME_PUBLIC_KEY_PATH",
                                      "SENDME_FASPAY_PUBLIC_KEY_PATH")]
    assert all(paths) and len(set(paths)) == 3
    assert "faspay" in lines["SENDME_FASPAY_PUBLIC_KEY_PATH"] and "faspay" not in lines["SENDME_PUBLIC_KEY_PATH"]


def test_write_key_pair_makes_a_matching_pair(tmp_path):
    from faspay import signing

    private, public = write_key_pair(tmp_path, "k")
    assert (signing.load_private_key(private.read_bytes()).public_key().public_numbers()
            == signing.load_public_key(public.read_bytes()).public_numbers())
