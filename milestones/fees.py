"""The service fee of a milestone plan: computed once on the whole value, then split.

The fee is the existing schedule's (``transactions.fees.fee_quote``) on the plan's total, so a
plan costs what one transaction of the same value costs; who pays it (buyer, seller, 50:50) is
decided once too (``split_fee``). Each milestone then carries a share of the buyer's part and a
share of the seller's part, **proportional to its amount, by the largest-remainder method**:

1. every milestone gets ``floor(part × amount / total)``;
2. the Rupiah left over (fewer than the number of milestones) go one each to the milestones with
   the largest fractional remainders, ties to the earlier milestone.

So the shares are whole Rupiah, never negative, each within one Rupiah of its exact proportion,
and they add up to the plan's fee exactly — the buyer pays, over all milestones, exactly what the
plan says, and the fee revenue of all milestones is the plan's fee. Each milestone's escrow
transaction keeps its share as its fee snapshot (``transactions.services.transaction_create``'s
``quote``), so its release, refund and split work on it as on any transaction.
"""
from dataclasses import dataclass

from transactions.fees import FeeQuote, fee_quote, split_fee


def largest_remainder(part: int, weights: list[int]) -> list[int]:
    """Split the whole number ``part`` in proportion to the positive ``weights``, summing exactly."""
    if part < 0 or not weights or any(weight <= 0 for weight in weights):
        raise ValueError("a non-negative part and positive weights")
    total = sum(weights)
    floors = [part * weight // total for weight in weights]
    remainders = [part * weight % total for weight in weights]
    left = part - sum(floors)
    # The largest remainders first; on a tie the earlier milestone (a stable order by index).
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        floors[index] += 1
    return floors


@dataclass(frozen=True)
class PlanQuote:
    whole: FeeQuote
    parts: list[FeeQuote]


def plan_quote(*, amounts: list[int], fee_payer: str, tiers=None) -> PlanQuote:
    """The plan's fee on its whole value and each milestone's share (raises ``FeeScheduleError``)."""
    total = sum(amounts)
    whole = fee_quote(price=total, shipping_cost=0, fee_payer=fee_payer, tiers=tiers)
    buyer_fee, seller_fee = split_fee(whole.fee, fee_payer)
    buyer_parts = largest_remainder(buyer_fee, amounts)
    seller_parts = largest_remainder(seller_fee, amounts)
    parts = [FeeQuote(amount, 0, b + s, b, s) for amount, b, s in zip(amounts, buyer_parts, seller_parts, strict=True)]
    return PlanQuote(whole, parts)
