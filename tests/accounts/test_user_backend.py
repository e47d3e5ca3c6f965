"""Every logged-in request reads its person through ``accounts.backends.UserBackend``: Django's
``ModelBackend`` with that read compiled once. It must decide exactly as ``ModelBackend`` does."""
import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext

from accounts.backends import BACKEND_PATH, UserBackend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_session_names_this_backend_and_a_page_knows_its_person(client):
    user = UserFactory()
    client.force_login(user)
    assert client.session["_auth_user_backend"] == BACKEND_PATH
    response = client.get("/transaksi/")
    assert response.status_code == 200
    assert response.wsgi_request.user == user


@pytest.mark.parametrize("state", ["active", "inactive", "deleted"])
def test_it_finds_whom_model_backend_finds(state):
    user = UserFactory()
    if state == "inactive":
        user.is_active = False
        user.save(update_fields=["is_active"])
    if state == "deleted":
        user.delete()
    expected = ModelBackend().get_user(user.pk)
    found = UserBackend().get_user(user.pk)
    assert found == expected
    if found is not None:  # the same person, every field read as the ORM reads it
        assert {f.attname: getattr(found, f.attname) for f in type(user)._meta.concrete_fields} == \
            {f.attname: getattr(expected, f.attname) for f in type(user)._meta.concrete_fields}
        assert found._state.adding is False and found._state.db == "default"


@pytest.mark.parametrize("user_id", [None, "", "x", "1.5", -1, 0, 2**63, 2**80, [1]])
def test_an_id_no_user_has_finds_no_one_without_a_query(user_id):
    UserFactory()
    with CaptureQueriesContext(connection) as queries:
        assert UserBackend().get_user(user_id) is None
    assert len(queries) == 0


def test_the_id_as_text_finds_the_person_in_one_query():
    user = UserFactory()
    with CaptureQueriesContext(connection) as queries:
        assert UserBackend().get_user(str(user.pk)) == user
    assert len(queries) == 1


def test_a_password_change_elsewhere_logs_the_old_session_out(client):
    """The session's hash is still checked against the person read (``django.contrib.auth.get_user``)."""
    user = UserFactory()
    client.force_login(user)
    user.set_password("a-new-and-long-password-2026")
    user.save()
    response = client.get("/transaksi/")
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_a_session_started_before_the_backend_was_renamed_stays_logged_in(client, settings):
    """Live sessions name Django's ModelBackend (``intrasa.sessions`` reads them as UserBackend's):
    a deploy logs nobody out."""
    assert settings.SESSION_ENGINE == "intrasa.sessions"
    user = UserFactory()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/transaksi/")
    assert response.status_code == 200 and response.wsgi_request.user == user
