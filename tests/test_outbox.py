"""The development outbox (issue 17): one console line per email, the full message kept for
/dev/outbox/, which exists only with DEBUG on."""
import pytest
from django.core.mail import EmailMultiAlternatives
from django.http import Http404
from django.test import RequestFactory

from intrasa import outbox, views
from tests.factories import UserFactory


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SITE_URL = "http://127.0.0.1:8000"
    return tmp_path


def send(backend):
    message = EmailMultiAlternatives(
        "Verifikasi email Anda", "Halo Budi,\nbuka http://127.0.0.1:8000/akun/verifikasi/abc/ untuk verifikasi.",
        "INTRASA <no-reply@intrasa.local>", ["budi@example.co.id"])
    message.attach_alternative("<html><body>" + "<p>panjang</p>" * 500 + "</body></html>", "text/html")
    return backend.send_messages([message])


def test_each_email_is_one_console_line_with_subject_recipient_and_links(var_dir, capsys):
    assert send(outbox.OutboxEmailBackend()) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("[email] Verifikasi email Anda → budi@example.co.id")
    assert "links: http://127.0.0.1:8000/akun/verifikasi/abc/" in lines[0]
    assert "full message: http://127.0.0.1:8000/dev/outbox/" in lines[0]
    (stored,) = outbox.outbox_list()
    message = outbox.outbox_get(stored["name"])
    assert message["subject"] == "Verifikasi email Anda" and "Halo Budi" in message["body"]
    assert message["links"] == ["http://127.0.0.1:8000/akun/verifikasi/abc/"] and "<p>panjang</p>" in message["html"]


def test_outbox_pages_only_in_debug(var_dir, settings, db):
    send(outbox.OutboxEmailBackend())
    name = outbox.outbox_list()[0]["name"]
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/dev/outbox/")
    request.user = UserFactory()
    settings.DEBUG = False
    with pytest.raises(Http404):
        views.outbox_message(request, name)
    settings.DEBUG = True
    request.session = {}
    assert "budi@example.co.id" in views.outbox_message(request, name).content.decode()
    with pytest.raises(Http404):
        views.outbox_message(request, "../../etc/passwd")
    request.user = AnonymousUser()
    assert views.outbox_message(request, name).status_code == 302  # a login first, even in development


def test_development_settings_use_the_outbox_without_email_url():
    import subprocess
    import sys

    code = "from django.conf import settings; import django; django.setup(); print(settings.EMAIL_BACKEND)"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "intrasa.settings.base", "DEBUG": "true",
           "DATABASE_URL": "sqlite:///:memory:"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.strip() == "intrasa.outbox.OutboxEmailBackend", out.stderr
