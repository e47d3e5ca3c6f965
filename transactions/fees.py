"""The service fee (Biaya Layanan): computed from the fee schedule on the transaction value.

The transaction value is the item price plus the shipping cost. Staff edit the tiers in the admin
(``FeeTier``); a transaction keeps the fee computed when it was created, so later edits never
change a transaction someone already agreed to. Defaults (migration 0002, documented in the
README):

======================================  ===================================================
Transaction value                       Fee
======================================  ===================================================
Rp 10.000 – Rp 1.000.000                Rp 5.000
Rp 1.000.001 – Rp 5.000.000             Rp 15.000
Rp 5.000.001 – Rp 25.000.000            0,5 % (at least Rp 25.000)
Rp 25.000.001 – Rp 100.000.000          0,4 % (at least Rp 125.000)
above Rp 100.000.000                    0,3 % (at least Rp 400.000, at most Rp 2.500.000)
======================================  ===================================================

Who pays: the buyer (added to what the buyer pays), the seller (deducted from the payout) or
split, where the seller pays half rounded down and the buyer the rest.
"""
from dataclasses import dataclass

from django.utils.translation import gettext as _

from intrasa.money import percent_of

from .models import FeePayerChoice, FeeTier

# Who pays the fee: the transaction's own choices (``transactions.models.FeePayerChoice``).
FeePayer = FeePayerChoice


class FeeScheduleError(Exception):
    pass


@dataclass(frozen=True)
class FeeQuote:
    price: int
    shipping_cost: int
    fee: int
    buyer_fee: int
    seller_fee: int

    @property
    def value(self) -> int:
        return self.price + self.shipping_cost

    @property
    def buyer_pays(self) -> int:
        return self.price + self.shipping_cost + self.buyer_fee

    @property
    def seller_receives(self) -> int:
        return self.price + self.shipping_cost - self.seller_fee

    def as_dict(self) -> dict[str, int]:
        return {
            "price": self.price, "shipping_cost": self.shipping_cost, "fee": self.fee,
            "buyer_fee": self.buyer_fee, "seller_fee": self.seller_fee,
            "buyer_pays": self.buyer_pays, "seller_receives": self.seller_receives,
        }


def tier_fee(tier, value: int) -> int:
    """The fee one tier charges on ``value``, with its minimum and maximum applied."""
    fee = tier.flat_fee + percent_of(value, tier.percent_basis_points)
    fee = max(fee, tier.minimum_fee)
    if tier.maximum_fee is not None:
        fee = min(fee, tier.maximum_fee)
    return fee


def split_fee(fee: int, fee_payer: str) -> tuple[int, int]:
    """``(buyer_fee, seller_fee)``."""
    if fee_payer == FeePayer.BUYER:
        return fee, 0
    if fee_payer == FeePayer.SELLER:
        return 0, fee
    if fee_payer == FeePayer.SPLIT:
        seller = fee // 2
        return fee - seller, seller
    raise FeeScheduleError(f"unknown fee payer {fee_payer!r}")


def fee_quote(*, price: int, shipping_cost: int, fee_payer: str, tiers=None) -> FeeQuote:
    """Quote the fee for a transaction value against ``tiers`` (default: the schedule in force)."""
    value = price + shipping_cost
    tiers = list(FeeTier.objects.all()) if tiers is None else tiers
    tier = next(
        (t for t in tiers if t.min_amount <= value and (t.max_amount is None or value <= t.max_amount)),
        None,
    )
    if tier is None:
        raise FeeScheduleError(_("No service fee is defined for this amount."))
    fee = tier_fee(tier, value)
    buyer_fee, seller_fee = split_fee(fee, fee_payer)
    if seller_fee >= value:
        raise FeeScheduleError(_("The seller's share of the fee would exceed the transaction value."))
    return FeeQuote(price, shipping_cost, fee, buyer_fee, seller_fee)
