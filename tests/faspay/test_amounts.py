"""The one amount codec: whole Rupiah ↔ Faspay's formats, exactly or not at all."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faspay import amounts
from faspay.errors import AmountError, FaspayError

RUPIAH = st.integers(min_value=0, max_value=amounts.SNAP_MAX_RUPIAH)
SCALES = st.sampled_from([1, 100])


@given(RUPIAH)
def test_snap_round_trip_over_the_whole_rupiah_range(rupiah):
    value = amounts.snap_value(rupiah)
    assert value == f"{rupiah}.00"
    assert amounts.parse_snap_value(value) == rupiah
    assert amounts.parse_snap_amount(amounts.snap_amount(rupiah)) == rupiah


@given(st.integers(min_value=0, max_value=amounts.DEBIT_MAX_UNITS), SCALES)
def test_debit_round_trip_over_the_whole_rupiah_range(units, scale):
    rupiah = units // scale
    value = amounts.debit_value(rupiah, scale)
    assert value == str(rupiah * scale)
    assert amounts.parse_debit_value(value, scale) == rupiah
    assert amounts.parse_debit_value(value + ".00", scale) == rupiah
    assert amounts.parse_debit_value(rupiah * scale, scale) == rupiah  # a JSON number


@given(RUPIAH, st.integers(min_value=1, max_value=99))
def test_every_snap_fraction_is_refused_not_rounded(rupiah, cents):
    with pytest.raises(AmountError, match="fraction"):
        amounts.parse_snap_value(f"{rupiah}.{cents:02d}")


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=99))
def test_every_debit_fraction_or_sub_rupiah_unit_is_refused(rupiah, cents):
    with pytest.raises(AmountError):
        amounts.parse_debit_value(f"{rupiah}.{cents:02d}", 1)
    with pytest.raises(AmountError, match="not whole Rupiah"):
        amounts.parse_debit_value(str(rupiah * 100 + cents), 100)


MALFORMED_TEXT = [
    "", " ", "10000 ", " 10000", "+10000", "-10000", "-0.00", "10000.", ".00", "10,000.00", "10.000.00",
    "1e4", "10000.000", "10000.0.0", "0x10", "NaN", "Infinity", "Rp 10000", "10 000", "١٠٠٠٠",
    "１００００", "10000\n", "²", "12345678901234567.00", "1" * 25,
]


@pytest.mark.parametrize("text", MALFORMED_TEXT)
def test_malformed_snap_values_are_refused(text):
    with pytest.raises(AmountError):
        amounts.parse_snap_value(text)


@pytest.mark.parametrize("text", MALFORMED_TEXT[:-2] + ["1" * 19, "1" * 25])
def test_malformed_debit_values_are_refused(text):
    with pytest.raises(AmountError):
        amounts.parse_debit_value(text, 1)


@pytest.mark.parametrize("value", [None, 10000.0, 10000.5, True, False, [], {}, b"10000", -1])
def test_non_text_amounts_are_refused(value):
    with pytest.raises(AmountError):
        amounts.parse_snap_value(value)
    with pytest.raises(AmountError):
        amounts.parse_debit_value(value, 1)


@pytest.mark.parametrize("amount", [
    "10000.00", None, [], {"value": 10000}, {"value": "10000.00", "currency": "USD"}, {"currency": "IDR"},
    {"value": None, "currency": "IDR"}, {"value": "10000.50", "currency": "IDR"},
])
def test_malformed_snap_amount_objects_are_refused(amount):
    with pytest.raises(AmountError):
        amounts.parse_snap_amount(amount)


def test_snap_amount_without_currency_is_read_as_rupiah():
    assert amounts.parse_snap_amount({"value": "25000.00"}) == 25000


@pytest.mark.parametrize("rupiah", [-1, amounts.SNAP_MAX_RUPIAH + 1, 1.0, "10000", None, True])
def test_encoder_refuses_what_is_not_whole_rupiah_in_range(rupiah):
    with pytest.raises(AmountError):
        amounts.snap_value(rupiah)


def test_debit_encoder_respects_the_fifteen_digit_field_and_the_scale():
    assert amounts.debit_value(amounts.DEBIT_MAX_UNITS, 1) == "9" * 15
    with pytest.raises(AmountError):
        amounts.debit_value(amounts.DEBIT_MAX_UNITS // 100 + 1, 100)
    for scale in (0, -100, 1.5, True):
        with pytest.raises(AmountError):
            amounts.debit_value(10000, scale)


def test_amount_errors_are_faspay_errors_and_value_errors():
    with pytest.raises(FaspayError):
        amounts.parse_snap_value("abc")
    with pytest.raises(ValueError):
        amounts.parse_snap_value("abc")
