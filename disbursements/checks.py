"""The SendMe limits in the settings must let every payout finish (``disbursements.rules``).

A payout larger than one part is split into parts of at least the minimum (``split_amount``), and
each part is sent within one day's Daily Nominal Total. With a per-transfer maximum below two
minimum parts, planning would make parts above the maximum, which SendMe refuses; with a daily
total below two minimum parts a part can never fit a day and the payout waits for ever. Staff changes of
the daily total are bounded by the service (``daily_limit_change``); these checks bound the
starting values, tagged ``provider_config`` so that production refuses to start with them
(``intrasa.checks.refuse_to_start_with_errors``), and ``manage.py check`` reports them everywhere.

========================  ==============================================================
id                        refuses
========================  ==============================================================
disbursements.E001        a minimum part (``SENDME_MIN_*``) that is not a positive amount
disbursements.E002        a per-transfer maximum (``SENDME_MAX_*``) below two minimum parts
disbursements.E003        a ``SENDME_DAILY_NOMINAL_TOTAL`` below two minimum parts
========================  ==============================================================
"""
from django.conf import settings
from django.core import checks

from intrasa.money import format_rupiah

from . import rules

LIMITS = (("SENDME_MAX_BANK_TRANSFER", "SENDME_MIN_BANK_TRANSFER"),
          ("SENDME_MAX_EWALLET_TOPUP", "SENDME_MIN_EWALLET_TOPUP"))


def check_sendme_limits(app_configs=None, **kwargs):
    errors = []
    for maximum_name, minimum_name in LIMITS:
        maximum, minimum = getattr(settings, maximum_name), getattr(settings, minimum_name)
        if not isinstance(minimum, int) or minimum <= 0:
            errors.append(checks.Error(f"{minimum_name} must be a positive whole Rupiah amount, not {minimum!r}.",
                                       id="disbursements.E001"))
        elif not isinstance(maximum, int) or maximum < 2 * minimum:
            errors.append(checks.Error(
                f"{maximum_name} ({maximum!r}) is below two minimum parts ({minimum_name} × 2 = "
                f"{format_rupiah(2 * minimum)}): a payout larger than one transfer could not be split.",
                hint="Set the limits agreed with Faspay (operational terms, section A).", id="disbursements.E002"))
    daily = settings.SENDME_DAILY_NOMINAL_TOTAL
    if not errors and (not isinstance(daily, int) or daily < rules.smallest_daily_limit()):
        errors.append(checks.Error(
            f"SENDME_DAILY_NOMINAL_TOTAL ({settings.SENDME_DAILY_NOMINAL_TOTAL!r}) is below two minimum parts "
            f"({format_rupiah(rules.smallest_daily_limit())}): a split payout's parts could never fit a day.",
            hint="Set the Daily Nominal Total agreed with Faspay (operational terms, section A).",
            id="disbursements.E003"))
    return errors
