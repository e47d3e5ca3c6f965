"""Names refuse invisible characters and numbers accept only the digits 0–9, on every way in
(site forms, services, the admin), and duplicates are found in the canonical form
(issue 13, "Logins and accounts"; the rules live in accounts/validators.py)."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import PayoutDestination, User
from tests.factories import BankDestinationFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

INVISIBLE = {
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "pop directional isolate": "\u2069",
    "Arabic letter mark": "\u061c",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "bell (control)": "\u0007",
    "vertical tab (control)": "\u000b",
}
NOT_ASCII_DIGITS = {
    "full-width": "０８１２３４５６７８９０",
    "Arabic-Indic": "٠٨١٢٣٤٥٦٧٨٩٠",
    "Extended Arabic-Indic": "۰۸۱۲۳۴۵۶۷۸۹۰",
    "superscript": "⁰⁸¹²³⁴⁵⁶⁷⁸⁹⁰",
    "circled": "⓪⑧①②③④⑤⑥⑦⑧⑨⓪",
    "one full-width digit among ASCII": "0812345678９0",
}
NAME_ERROR = "Names may contain only visible letters, digits, spaces and punctuation"
DIGITS_ERROR = "Type the number with the digits 0–9 only"


def _name(kind):
    return f"Budi{INVISIBLE[kind]} Santoso"


# --- names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", INVISIBLE)
def test_sign_up_refuses_invisible_characters_in_the_name(client, kind):
    response = client.post(reverse("accounts:signup"), {
        "full_name": _name(kind), "email": "budi.baru@example.co.id", "phone": "0812 3456 7890",
        "password1": "kopi-tubruk-pagi-hari", "password2": "kopi-tubruk-pagi-hari"})
    assert response.status_code == 200
    assert NAME_ERROR in response.content.decode()
    assert not User.objects.filter(email="budi.baru@example.co.id").exists()


@pytest.mark.parametrize("kind", INVISIBLE)
def test_every_name_form_of_the_profile_page_refuses_invisible_characters(client, seller, kind):
    client.force_login(seller)
    posts = [
        (reverse("accounts:profile"), {"profile-full_name": _name(kind), "profile-phone": "0812 3456 7890",
                                       "profile-preferred_language": "en"}),
        (reverse("accounts:destination_add_bank"), {"bank-bank_code": "014", "bank-account_number": "1234567890",
                                                    "bank-account_holder_name": _name(kind)}),
        (reverse("accounts:destination_add_ewallet"), {"ewallet-provider": "ovo", "ewallet-phone": "0812 3456 7890",
                                                       "ewallet-registered_name": _name(kind)}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 200, url
        assert NAME_ERROR in response.content.decode(), url
    seller.refresh_from_db()
    assert seller.full_name == "Sari Penjual"
    assert not PayoutDestination.objects.exists()


@pytest.mark.parametrize("kind", INVISIBLE)
def test_the_services_refuse_invisible_characters_in_names_for_every_caller(seller, kind):
    calls = {
        "full_name": lambda: services.user_sign_up(email="x@example.co.id", full_name=_name(kind),
                                                   phone="081234567890", password="kopi-tubruk-pagi-hari",
                                                   language="id"),
        "full_name ": lambda: services.user_update_profile(user=seller, full_name=_name(kind),
                                                           phone="081234567890", preferred_language="id"),
        "account_holder_name": lambda: services.payout_destination_add_bank(
            owner=seller, bank_code="014", account_number="1234567890", account_holder_name=_name(kind)),
        "registered_name": lambda: services.payout_destination_add_ewallet(
            owner=seller, provider="ovo", phone="081234567890", registered_name=_name(kind)),
    }
    for field, call in calls.items():
        with pytest.raises(ValidationError) as refused:
            call()
        assert field.strip() in refused.value.error_dict, field
    assert not PayoutDestination.objects.exists()
    assert not User.objects.filter(email="x@example.co.id").exists()


@pytest.mark.parametrize("kind", ["right-to-left override", "zero-width space", "bell (control)"])
def test_the_admin_refuses_invisible_characters_in_names(client, seller, kind):
    client.force_login(StaffFactory(email="admin@intrasa.co.id", is_superuser=True))
    change = client.post(reverse("admin:accounts_user_change", args=[seller.pk]), {
        "email": seller.email, "full_name": _name(kind), "phone": seller.phone, "preferred_language": "id",
        "is_active": "on"})
    add = client.post(reverse("admin:accounts_user_add"), {
        "email": "baru@example.co.id", "full_name": _name(kind), "phone": "", "usable_password": "false"})

    assert change.status_code == 200 and add.status_code == 200
    assert NAME_ERROR in change.content.decode() and NAME_ERROR in add.content.decode()
    seller.refresh_from_db()
    assert seller.full_name == "Sari Penjual"
    assert not User.objects.filter(email="baru@example.co.id").exists()


def test_ordinary_names_still_pass_and_spaces_are_tidied(seller):
    for name in ("Siti Nur'aini", "I Gusti Ayu Putu Sri-Wahyuni", "Muhammad Al-Fatih, S.Kom.", "Budi  Santoso "):
        services.user_update_profile(user=seller, full_name=name, phone="081234567890", preferred_language="id")
    seller.refresh_from_db()
    assert seller.full_name == "Budi Santoso"


@pytest.mark.parametrize("kind", ["right-to-left override", "left-to-right isolate", "zero-width space"])
def test_transaction_titles_and_descriptions_refuse_direction_tricks(client, seller, kind):
    from transactions.models import EscrowTransaction

    client.force_login(seller)
    form = {"title": "Sepeda Lipat", "description": "Lengkap.", "category": "physical", "price": "2.500.000",
            "shipping_cost": "", "fee_payer": "buyer", "inspection_days": "3", "shipping_days": "2",
            "buyer_email": "budi@example.co.id", "buyer_phone": ""}
    for field in ("title", "description"):
        response = client.post(reverse("transactions:create"), {**form, field: f"Sepeda{INVISIBLE[kind]}gpj.exe"})
        assert response.status_code == 200
        assert "invisible or direction-changing characters" in response.content.decode()
    assert not EscrowTransaction.objects.exists()


def test_emoji_sequences_in_a_description_are_fine(client, seller):
    from transactions.models import EscrowTransaction

    client.force_login(seller)
    client.post(reverse("transactions:create"), {
        "title": "Boneka keluarga", "description": "Satu set 👨\u200d👩\u200d👧 lengkap.", "category": "physical",
        "price": "250.000", "shipping_cost": "", "fee_payer": "buyer", "inspection_days": "3",
        "shipping_days": "2", "buyer_email": "budi@example.co.id", "buyer_phone": ""})
    assert EscrowTransaction.objects.get().description == "Satu set 👨\u200d👩\u200d👧 lengkap."


# --- digits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", NOT_ASCII_DIGITS)
def test_account_numbers_accept_only_ascii_digits(client, seller, kind):
    number = NOT_ASCII_DIGITS[kind]
    assert number.isdigit() or any(ch.isnumeric() for ch in number)  # what used to let them through
    client.force_login(seller)

    response = client.post(reverse("accounts:destination_add_bank"), {
        "bank-bank_code": "014", "bank-account_number": number, "bank-account_holder_name": "Sari Penjual"})

    assert response.status_code == 200 and DIGITS_ERROR in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.payout_destination_add_bank(owner=seller, bank_code="014", account_number=number,
                                             account_holder_name="Sari Penjual")
    assert refused.value.error_dict["account_number"][0].code == "non_ascii_digits"
    assert not PayoutDestination.objects.exists()


@pytest.mark.parametrize("kind", NOT_ASCII_DIGITS)
def test_phone_numbers_accept_only_ascii_digits_everywhere(client, seller, kind):
    number = NOT_ASCII_DIGITS[kind]
    client.force_login(seller)
    posts = [
        (reverse("accounts:profile"), {"profile-full_name": "Sari Penjual", "profile-phone": number,
                                       "profile-preferred_language": "en"}),
        (reverse("accounts:destination_add_ewallet"), {"ewallet-provider": "ovo", "ewallet-phone": number,
                                                       "ewallet-registered_name": "Sari Penjual"}),
        (reverse("accounts:signup"), {"full_name": "Budi", "email": "budi.baru@example.co.id", "phone": number,
                                      "password1": "kopi-tubruk-pagi-hari", "password2": "kopi-tubruk-pagi-hari"}),
        (reverse("transactions:create"), {
            "title": "Sepeda", "description": "Lengkap.", "category": "physical", "price": "2.500.000",
            "shipping_cost": "", "fee_payer": "buyer", "inspection_days": "3", "shipping_days": "2",
            "buyer_email": "", "buyer_phone": number}),
    ]
    for url, data in posts:
        if url == reverse("accounts:signup"):
            client.logout()
            client.cookies["django_language"] = "en"
        response = client.post(url, data)
        assert response.status_code == 200, url
        assert DIGITS_ERROR in response.content.decode(), url
        client.force_login(seller)
    seller.refresh_from_db()
    assert not PayoutDestination.objects.exists()
    assert not User.objects.filter(email="budi.baru@example.co.id").exists()


def test_the_duplicate_check_compares_the_canonical_account_number(seller):
    BankDestinationFactory(owner=seller, bank_code="014", account_number="1234567890")
    for spelling in ("1234-567-890", "1234 567 890", "1234.567.890"):
        with pytest.raises(ValidationError) as refused:
            services.payout_destination_add_bank(owner=seller, bank_code="014", account_number=spelling,
                                                 account_holder_name="Sari Penjual")
        assert refused.value.error_dict["account_number"][0].code == "duplicate"
    for spelling in ("１２３４５６７８９０", "1234\u200b567890"):  # look-alikes are refused, not added beside it
        with pytest.raises(ValidationError):
            services.payout_destination_add_bank(owner=seller, bank_code="014", account_number=spelling,
                                                 account_holder_name="Sari Penjual")
    assert PayoutDestination.objects.count() == 1


def test_the_duplicate_check_compares_the_canonical_email(client):
    User.objects.create_user(email="dewi@example.co.id", password="x", full_name="Dewi")
    for spelling in ("DEWI@example.co.id", "ｄｅｗｉ@example.co.id", " dewi@EXAMPLE.co.id"):
        with pytest.raises(ValidationError) as refused:
            services.user_sign_up(email=spelling, full_name="Dewi Tiruan", phone="081234567891",
                                  password="kopi-tubruk-pagi-hari", language="id")
        assert refused.value.error_dict["email"][0].code == "duplicate_email"
    assert User.objects.count() == 1


# --- password reset: counted per matched account ----------------------------------------------

def test_look_alike_spellings_share_the_accounts_reset_allowance(client, seller, mailoutbox):
    reset = reverse("accounts:password_reset")
    spellings = ["sari@example.co.id", "ſari@example.co.id", "ＳＡＲＩ@example.co.id", "SARI@example.co.id",
                 "ｓari@example.co.id"]
    for n, spelling in enumerate(spellings):
        response = client.post(reset, {"email": spelling}, REMOTE_ADDR=f"10.0.2.{n}")
        assert response.status_code == 302  # the same answer every time

    assert len(mailoutbox) == 3  # PASSWORD_RESET_PER_ACCOUNT, whatever the spelling
    assert all(mail.to == [seller.email] for mail in mailoutbox)  # always the stored address


@pytest.mark.parametrize("field,value,error", [
    ("account_holder", "PT INTRASA\u202e", NAME_ERROR),
    ("bank_name", "BCA\u200b", NAME_ERROR),
    ("account_number", "８８３０１２３４５６", DIGITS_ERROR),
    ("account_number", "8830١٢٣٤٥٦", DIGITS_ERROR),
    ("account_number", "8830A23456", "digits 0–9 only"),
])
def test_the_treasury_withdrawal_form_refuses_invisible_names_and_foreign_digits(client, field, value, error):
    from django.contrib.auth.models import Permission

    from treasury.models import WithdrawalInstruction

    finance = StaffFactory(email="keuangan@intrasa.co.id")
    finance.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_withdrawalinstruction", "add_withdrawalinstruction", "view_treasury"]))
    client.force_login(finance)
    data = {"kind": "domestic", "amount": "1.000.000", "bank_name": "BCA", "account_number": "8830123456",
            "account_holder": "PT INTRASA", "reason": "Penarikan rutin", "_confirm": "1"}

    response = client.post(reverse("admin:treasury_withdrawalinstruction_add"), {**data, field: value})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not WithdrawalInstruction.objects.exists()
