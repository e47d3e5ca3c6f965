"""The plan's fee is computed once on the whole value and split by the largest-remainder method."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from milestones.fees import largest_remainder, plan_quote
from transactions.fees import fee_quote
from transactions.models import FeeTier

# The default schedule (transactions.fees), in memory: the property runs without a database.
TIERS = [
    FeeTier(min_amount=10_000, max_amount=1_000_000, flat_fee=5_000),
    FeeTier(min_amount=1_000_001, max_amount=5_000_000, flat_fee=15_000),
    FeeTier(min_amount=5_000_001, max_amount=25_000_000, percent_basis_points=50, minimum_fee=25_000),
    FeeTier(min_amount=25_000_001, max_amount=100_000_000, percent_basis_points=40, minimum_fee=125_000),
    FeeTier(min_amount=100_000_001, max_amount=None, percent_basis_points=30, minimum_fee=400_000,
            maximum_fee=2_500_000),
]

amounts_strategy = st.lists(st.integers(min_value=10_000, max_value=100_000_000), min_size=2, max_size=10)


@given(part=st.integers(min_value=0, max_value=10**10), weights=st.lists(st.integers(1, 10**9), min_size=1, max_size=10))
def test_largest_remainder_sums_exactly_and_stays_within_one_rupiah(part, weights):
    shares = largest_remainder(part, weights)
    assert sum(shares) == part and all(share >= 0 for share in shares)
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * total - part * weight) < total  # |share − exact| < 1 Rupiah


@given(amounts=amounts_strategy, fee_payer=st.sampled_from(["buyer", "seller", "split"]))
def test_the_parts_add_up_to_the_fee_on_the_whole_value(amounts, fee_payer):
    quote = plan_quote(amounts=amounts, fee_payer=fee_payer, tiers=TIERS)
    whole = fee_quote(price=sum(amounts), shipping_cost=0, fee_payer=fee_payer, tiers=TIERS)
    assert quote.whole == whole
    assert sum(p.fee for p in quote.parts) == whole.fee
    assert sum(p.buyer_fee for p in quote.parts) == whole.buyer_fee
    assert sum(p.seller_fee for p in quote.parts) == whole.seller_fee
    assert sum(p.buyer_pays for p in quote.parts) == whole.buyer_pays
    assert sum(p.seller_receives for p in quote.parts) == whole.seller_receives
    assert [p.price for p in quote.parts] == amounts
    assert all(p.fee == p.buyer_fee + p.seller_fee and p.seller_fee < p.value for p in quote.parts)


def test_a_worked_example():
    """Rp 3.000.001 in three parts: the fee Rp 15.000 (one transaction of that value), split 1:1:1."""
    quote = plan_quote(amounts=[1_000_000, 1_000_000, 1_000_001], fee_payer="split", tiers=TIERS)
    assert quote.whole.fee == 15_000 and (quote.whole.buyer_fee, quote.whole.seller_fee) == (7_500, 7_500)
    assert [p.buyer_fee for p in quote.parts] == [2_500, 2_500, 2_500]
    assert [p.fee for p in quote.parts] == [5_000, 5_000, 5_000]
    uneven = plan_quote(amounts=[10_000, 10_000, 10_000], fee_payer="buyer", tiers=TIERS)
    assert [p.fee for p in uneven.parts] == [1_667, 1_667, 1_666]  # the first remainders win the ties


def test_bad_weights_are_refused():
    with pytest.raises(ValueError):
        largest_remainder(10, [1, 0])
