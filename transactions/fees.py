"""The service fee (Biaya Layanan): computed from the fee schedule on the transaction value.

The transaction value is the item price plus the shipping cost. Staff change the tiers
(``FeeTier``) only through ``fee_tier_create`` / ``fee_tier_change`` / ``fee_tier_delete`` below
(the admin calls them), each with a reason and an audit row; a transaction keeps the fee computed
when it was created, so later edits never change a transaction someone already agreed to.

Two tiers never cover the same amount: the services refuse it with a message naming the other
tier, and on PostgreSQL the exclusion constraint ``fee_tier_ranges_do_not_overlap`` (migration
0003) refuses it even to two staff saving at the same moment. Defaults (migration 0002, documented in the
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

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import format_rupiah, percent_of

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


# --- staff changes of the schedule ----------------------------------------------------------

TIER_FIELDS = ("min_amount", "max_amount", "flat_fee", "percent_basis_points", "minimum_fee", "maximum_fee")
OVERLAP_CONSTRAINT = "fee_tier_ranges_do_not_overlap"


class FeeTierError(ServiceError):
    """A refused change of the fee schedule; the message is for the staff member who tried it."""


def fee_tier_range_label(min_amount: int, max_amount: int | None) -> str:
    if max_amount is None:
        return _("from %(min)s") % {"min": format_rupiah(min_amount)}
    return f"{format_rupiah(min_amount)} – {format_rupiah(max_amount)}"


def fee_tier_values(fee_tier: FeeTier) -> dict:
    return {field: getattr(fee_tier, field) for field in TIER_FIELDS}


def _overlap_error(min_amount: int, max_amount: int | None, other: FeeTier | None) -> FeeTierError:
    mine = fee_tier_range_label(min_amount, max_amount)
    if other is None:  # the database refused it: a tier saved at the same moment overlaps
        message = _("The amounts %(mine)s overlap another tier of the fee schedule. Reload the schedule, "
                    "then change or delete that tier first.") % {"mine": mine}
    else:
        message = _("The amounts %(mine)s overlap the tier %(other)s: one amount would have two fees. "
                    "Change or delete that tier first, or choose amounts that do not overlap.") % {
            "mine": mine, "other": fee_tier_range_label(other.min_amount, other.max_amount)}
    return FeeTierError(message, code="overlap")


def fee_tier_overlapping(*, min_amount: int, max_amount: int | None, exclude_pk=None) -> FeeTier | None:
    """The first tier whose amounts overlap ``[min_amount, max_amount]`` (``None``: no upper limit)."""
    tiers = FeeTier.objects.exclude(pk=exclude_pk) if exclude_pk is not None else FeeTier.objects.all()
    if max_amount is not None:
        tiers = tiers.filter(min_amount__lte=max_amount)
    return (tiers.exclude(max_amount__lt=min_amount)  # NULL (no upper limit) is never below
            .order_by("min_amount").first())


def fee_tier_check(*, values: dict, fee_tier: FeeTier | None = None) -> dict:
    """The tier's amounts, checked: whole Rupiah within what a transaction can be worth, an upper
    limit not below the lower, a maximum fee not below the minimum, and no overlap with another
    tier. Raises ``FeeTierError``; the admin form calls it too, to show the message on the form."""
    limit = settings.INTRASA_MAX_TRANSACTION_AMOUNT
    values = {field: values.get(field) for field in TIER_FIELDS}
    for field in ("flat_fee", "percent_basis_points", "minimum_fee"):
        if values[field] is None:
            values[field] = 0
    for field in TIER_FIELDS:
        value = values[field]
        if value is None and field in ("max_amount", "maximum_fee"):
            continue
        ceiling = 10_000 if field == "percent_basis_points" else limit
        if type(value) is not int or not 0 <= value <= ceiling:
            raise FeeTierError(_("Every amount of a tier is a whole number from 0 to %(max)s.")
                               % {"max": format_rupiah(limit)}, code="invalid_amount")
    if values["max_amount"] is not None and values["max_amount"] < values["min_amount"]:
        raise FeeTierError(_("The upper limit of a tier cannot be below its lower limit."), code="invalid_range")
    if values["maximum_fee"] is not None and values["maximum_fee"] < values["minimum_fee"]:
        raise FeeTierError(_("The maximum fee cannot be below the minimum fee."), code="invalid_fee")
    other = fee_tier_overlapping(min_amount=values["min_amount"], max_amount=values["max_amount"],
                                 exclude_pk=fee_tier.pk if fee_tier is not None else None)
    if other is not None:
        raise _overlap_error(values["min_amount"], values["max_amount"], other)
    return values


def _require(actor, codename: str) -> None:
    if not (actor is not None and actor.is_staff and actor.has_perm(f"transactions.{codename}")):
        raise FeeTierError(_("You are not allowed to change the fee schedule."), code="forbidden")


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FeeTierError(_("Please give a reason."), code="reason_required")
    return reason


def _save(tier: FeeTier) -> None:
    """Save in a savepoint, so the exclusion constraint's refusal (two staff saving overlapping
    tiers at the same moment) becomes a message instead of a broken transaction."""
    try:
        with transaction.atomic():
            tier.save()
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT in str(exc):
            raise _overlap_error(tier.min_amount, tier.max_amount, None) from None
        raise


def fee_tier_create(*, actor, reason: str, values: dict) -> FeeTier:
    """Add a tier to the schedule (applies to transactions created from now on)."""
    _require(actor, "add_feetier")
    reason = _require_reason(reason)
    with transaction.atomic():
        tier = FeeTier(**fee_tier_check(values=values))
        _save(tier)
        audit_record(actor=actor, action="fee_tier.add", target=tier, reason=reason,
                     data={"after": fee_tier_values(tier)})
        return tier


def fee_tier_change(*, fee_tier, actor, reason: str, values: dict) -> FeeTier:
    """Change a tier (applies to transactions created from now on; existing ones keep their fee)."""
    _require(actor, "change_feetier")
    reason = _require_reason(reason)
    with transaction.atomic():
        tier = locks.lock(FeeTier, fee_tier.pk if isinstance(fee_tier, FeeTier) else fee_tier)
        before = fee_tier_values(tier)
        for field, value in fee_tier_check(values=values, fee_tier=tier).items():
            setattr(tier, field, value)
        after = fee_tier_values(tier)
        if after == before:
            raise FeeTierError(_("Nothing changed."), code="unchanged")
        _save(tier)
        audit_record(actor=actor, action="fee_tier.change", target=tier, reason=reason,
                     data={"before": before, "after": after})
        return tier


def fee_tier_delete(*, fee_tier, actor, reason: str) -> None:
    """Remove a tier; amounts it covered have no fee (and cannot be transacted) until a tier covers them."""
    _require(actor, "delete_feetier")
    reason = _require_reason(reason)
    with transaction.atomic():
        tier = locks.lock(FeeTier, fee_tier.pk if isinstance(fee_tier, FeeTier) else fee_tier)
        audit_record(actor=actor, action="fee_tier.delete", target=tier, reason=reason,
                     data={"before": fee_tier_values(tier)})
        tier.delete()
