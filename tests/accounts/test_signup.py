import pytest
from django.urls import reverse

from accounts.models import User
from accounts.services import user_sign_up
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = reverse("accounts:signup")


def _form_data(**overrides):
    data = {
        "full_name": "  Dewi   Lestari ",
        "email": "Dewi.Lestari@Example.co.id",
        "phone": "0812-3456-7890",
        "password1": "kopi-tubruk-pagi-hari",
        "password2": "kopi-tubruk-pagi-hari",
    }
    data.update(overrides)
    return data


def test_signup_page_renders(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert b'name="phone"' in response.content


def test_sign_up_creates_the_user_logs_them_in_and_goes_to_the_dashboard(client):
    response = client.post(URL, _form_data())

    assert response.status_code == 302
    assert response.url == reverse("transactions:dashboard")
    user = User.objects.get()
    assert user.email == "dewi.lestari@example.co.id"
    assert user.full_name == "Dewi Lestari"
    assert user.phone == "+6281234567890"
    assert user.preferred_language == "id"
    assert user.check_password("kopi-tubruk-pagi-hari")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert AuditEntry.objects.filter(action="user.sign_up", object_id=str(user.pk), actor=user).exists()


def test_sign_up_follows_a_safe_next_and_ignores_a_foreign_one(client):
    response = client.post(URL + "?next=/notifikasi/", _form_data())
    assert response.url == "/notifikasi/"

    client.logout()
    response = client.post(URL + "?next=https://evil.example/", _form_data(email="lain@example.co.id"))
    assert response.url == reverse("transactions:dashboard")


def test_a_logged_in_person_is_sent_away_from_sign_up(client, seller):
    client.force_login(seller)
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize("phone", ["+1 415 555 2671", "+44 20 7946 0958", "+65 8123 4567"])
def test_foreign_phone_is_refused_with_the_domestic_only_error(client, phone):
    response = client.post(URL, _form_data(phone=phone))

    assert response.status_code == 200
    assert response.context["form"].has_error("phone", code="foreign_phone")
    assert not User.objects.exists()


def test_indonesian_landline_is_not_a_mobile_number(client):
    response = client.post(URL, _form_data(phone="021 555 1234"))
    assert response.context["form"].has_error("phone", code="invalid_phone")
    assert not User.objects.exists()


def test_duplicate_email_in_a_different_case_is_refused(client, seller):
    response = client.post(URL, _form_data(email="SARI@Example.CO.ID"))

    assert response.status_code == 200
    assert response.context["form"].has_error("email", code="duplicate_email")
    assert User.objects.filter(email__iexact="sari@example.co.id").count() == 1


@pytest.mark.parametrize("password, code", [
    ("12345678", "password_entirely_numeric"),
    ("password", "password_too_common"),
    ("kU3!x", "password_too_short"),
    ("dewilestari", "password_too_similar"),
])
def test_weak_password_is_refused(client, password, code):
    response = client.post(URL, _form_data(password1=password, password2=password))

    assert response.status_code == 200
    assert response.context["form"].has_error("password2", code=code)
    assert not User.objects.exists()


def test_password_confirmation_must_match(client):
    response = client.post(URL, _form_data(password2="something-else-entirely"))
    assert response.context["form"].has_error("password2", code="password_mismatch")
    assert not User.objects.exists()


def test_missing_fields_are_reported_and_nothing_is_saved(client):
    response = client.post(URL, {})
    form = response.context["form"]
    for field in ("full_name", "email", "phone", "password1", "password2"):
        assert form.has_error(field, code="required")
    assert not User.objects.exists()


def test_the_service_refuses_a_duplicate_email_that_bypassed_the_form(seller):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        user_sign_up(email="Sari@EXAMPLE.co.id", full_name="Sari Lain", phone="081234567890",
                     password="kopi-tubruk-pagi-hari", language="id")
    assert "email" in excinfo.value.error_dict


def test_the_service_refuses_foreign_phone_and_unknown_language(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        user_sign_up(email="a@example.co.id", full_name="A", phone="+14155552671",
                     password="kopi-tubruk-pagi-hari", language="fr")
    assert set(excinfo.value.error_dict) == {"phone"}
    with pytest.raises(ValidationError) as excinfo:
        user_sign_up(email="a@example.co.id", full_name="A", phone="081234567890",
                     password="kopi-tubruk-pagi-hari", language="fr")
    assert set(excinfo.value.error_dict) == {"language"}
    assert not User.objects.exists()


def test_password_rules_read_as_good_indonesian(client):
    from django.urls import reverse

    html = client.get(reverse("accounts:signup")).content.decode()
    assert "Sandi anda" not in html and "informasi pribadi anda" not in html
    assert "Kata sandi Anda tidak boleh hanya berisi angka." in html
