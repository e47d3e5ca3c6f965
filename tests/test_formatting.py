"""Rupiah, WIB and reference numbers: the things people read and type."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from intrasa.money import format_rupiah, parse_rupiah, percent_of
from intrasa.wib import WIB, format_wib
from transactions.references import ALPHABET, ReferenceStatus, generate_reference, parse_reference


@pytest.mark.parametrize("amount,text", [
    (0, "Rp 0"), (1_250_000, "Rp 1.250.000"), (999, "Rp 999"), (-5_000, "-Rp 5.000"),
    (50_000_000, "Rp 50.000.000"),
])
def test_format_rupiah(amount, text):
    assert format_rupiah(amount) == text


def test_format_rupiah_refuses_floats():
    with pytest.raises(TypeError):
        format_rupiah(10.5)


@pytest.mark.parametrize("text,amount", [
    ("150000", 150_000), ("150.000", 150_000), ("Rp 1.250.000", 1_250_000), ("rp150.000,00", 150_000),
])
def test_parse_rupiah(text, amount):
    assert parse_rupiah(text) == amount


@pytest.mark.parametrize("text,code", [
    ("$100", "foreign_currency"), ("USD 100", "foreign_currency"), ("12,50", "invalid_rupiah"),
    ("1.50", "invalid_rupiah"), ("abc", "invalid_rupiah"), ("", "invalid_rupiah"),
])
def test_parse_rupiah_refuses(text, code):
    with pytest.raises(ValidationError) as excinfo:
        parse_rupiah(text)
    assert excinfo.value.code == code


@given(st.integers(0, 10**12))
def test_format_then_parse_round_trips(amount):
    assert parse_rupiah(format_rupiah(amount)) == amount


def test_percent_of_rounds_half_up_in_integers():
    assert percent_of(1_000_001, 50) == 5_000
    assert percent_of(1_000_100, 50) == 5_001  # 5000.5 → 5001


def test_format_wib_in_both_languages():
    moment = dt.datetime(2026, 6, 12, 7, 0, tzinfo=dt.timezone.utc)  # 14.00 WIB
    with translation.override("id"):
        assert format_wib(moment) == "Jumat, 12 Juni 2026 14.00 WIB"
    with translation.override("en"):
        assert format_wib(moment) == "Friday, 12 June 2026 14:00 WIB"
    with translation.override("id"):
        assert format_wib(dt.datetime(2026, 6, 11, 14, 0, tzinfo=WIB)) == "Kamis, 11 Juni 2026 14.00 WIB"


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 12, 31),
                    timezones=st.just(dt.timezone.utc)),
       st.sampled_from(["id", "en"]))
def test_format_wib_writes_what_django_date_format_writes(moment, language):
    """``format_wib`` builds the date from the day and month names itself (it is called a dozen times
    per page); the text must stay exactly what ``formats.date_format(…, "l, j F Y")`` gives."""
    from django.utils import formats

    local = moment.astimezone(WIB)
    with translation.override(language):
        expected_date = formats.date_format(local, "l, j F Y")
        expected_time = local.strftime("%H.%M" if language == "id" else "%H:%M")
        assert format_wib(moment, with_time=False) == expected_date
        assert format_wib(moment) == f"{expected_date} {expected_time} WIB"


def test_references_are_valid_random_and_formatted():
    references = {generate_reference() for _ in range(2000)}
    assert len(references) == 2000
    for reference in list(references)[:50]:
        assert parse_reference(reference) == (ReferenceStatus.VALID, reference)
        assert len(reference) == len("INT-XXXX-XXXX-XXXX")


def test_reference_input_is_forgiving_about_case_dashes_and_lookalikes():
    reference = "INT-" + "0" * 4 + "-1111-" + "222"
    body = reference.replace("-", "")[3:]
    from transactions.references import check_character, format_reference
    valid = format_reference("INT" + body + check_character(body))
    typed = valid.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert parse_reference(typed) == (ReferenceStatus.VALID, valid)


def test_every_single_character_typo_is_detected():
    for _ in range(50):
        compact = generate_reference().replace("-", "")
        for position in range(3, len(compact)):
            for replacement in ALPHABET:
                if replacement != compact[position]:
                    typo = compact[:position] + replacement + compact[position + 1:]
                    assert parse_reference(typo)[0] == ReferenceStatus.CHECK_FAILED


def test_every_swap_of_two_characters_is_detected():
    for _ in range(200):
        compact = generate_reference().replace("-", "")
        for i in range(3, len(compact)):
            for j in range(i + 1, len(compact)):
                if compact[i] == compact[j]:
                    continue
                swapped = list(compact)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert parse_reference("".join(swapped))[0] == ReferenceStatus.CHECK_FAILED


def test_malformed_references():
    assert parse_reference("hello")[0] == ReferenceStatus.MALFORMED
    assert parse_reference("INT-1234")[0] == ReferenceStatus.MALFORMED


def test_money_filter_keeps_rp_with_its_amount():
    from intrasa.templatetags.intrasa_format import money

    assert str(money(1250000)) == '<span class="money">Rp\u00a01.250.000</span>'
    assert money(None) == ""


@pytest.mark.parametrize("amount,text", [(1_250_000, "Rp\u00a01.250.000"), (0, "Rp\u00a00"), (-5_000, "-Rp\u00a05.000")])
def test_rupiah_filter_joins_rp_and_digits_with_a_no_break_space(amount, text):
    """Every amount a template writes ("|rupiah" in text, attributes, emails and PDFs; "|money" on pages)
    keeps "Rp" on the line of its digits: the browser journeys check each page for an ordinary space."""
    from django.template import Context, Template

    from intrasa.templatetags.intrasa_format import rupiah

    assert rupiah(amount) == text and rupiah(None) == ""
    rendered = Template("{{ a|rupiah }} · {{ a|money }}").render(Context({"a": amount}))
    assert rendered == f'{text} · <span class="money">{text}</span>'
