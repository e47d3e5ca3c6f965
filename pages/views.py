"""Public pages (no login). Thin: a form in, a selector called, a template or JSON out.

Every look-up (Cek Transaksi, its JSON API, the payment check) goes through ``_limited_lookup``,
which applies the two public look-up budgets of ``intrasa.ratelimit`` (``PUBLIC_LOOKUPS``,
``PUBLIC_UNKNOWN``) before and after the selector runs.

Every public page answers GET and HEAD (``require_safe``): link previews, crawlers and uptime monitors ask
with HEAD. A HEAD look-up counts against the same budgets as a GET: it runs the same look-up.
"""
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_safe

from intrasa import ratelimit
from intrasa.http import never_cache
from refunds.selectors import latest_refund_due_by
from transactions.fees import FeeScheduleError, fee_quote
from workdays.calendar import WorkingCalendar

from . import page_memo, public_cache, selectors
from .forms import FeeCalculatorForm, PaymentCodeForm, ReferenceForm, valid_reference_text
from .selectors import LookupOutcome


class RateLimited(Exception):
    """A look-up refused by ``limit`` for the client ``parts`` (its IP address)."""

    def __init__(self, limit: ratelimit.RateLimit, *parts: str):
        super().__init__(limit.name)
        self.limit = limit
        self.parts = parts

    @cached_property
    def retry_after(self) -> int:
        """Seconds until this client may try again (``RateLimit.retry_after``; read only for a refusal)."""
        return self.limit.retry_after(*self.parts)

    @property
    def message(self) -> str:
        minutes = ratelimit.minutes_to_wait(self.retry_after)
        return ngettext("Too many look-ups from your connection. For your security, please try again in "
                        "%(minutes)d minute.",
                        "Too many look-ups from your connection. For your security, please try again in "
                        "%(minutes)d minutes.", minutes) % {"minutes": minutes}


def _limited_lookup(request, lookup, *, is_unknown):
    """Run ``lookup()`` within the per-IP budgets; raise ``RateLimited`` when over one of them.

    The "unknown" budget is checked before anything is looked up, so that once a client has
    guessed too often even a lucky guess is not answered; and each look-up takes a place in it
    first (on the same round trip), kept if the answer is "unknown", so that a burst of guesses
    cannot all pass that check before the first of them is counted.
    """
    ip = ratelimit.counted_address(request)
    refused, place, _values = ratelimit.PUBLIC_LOOKUPS.hit_reserving(ratelimit.PUBLIC_UNKNOWN, ip)  # one round trip
    if refused is not None:
        raise RateLimited(refused, ip)
    return place.look_up(lookup, is_guess=is_unknown)


def _too_many(request, template: str, context: dict, exc: RateLimited):
    response = render(request, template, {**context, "rate_limited": exc.message}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


CHECK_TRANSACTION_TEMPLATE = "pages/check_transaction.html"


@dataclass(frozen=True)
class _FactsRead:
    """What Cek Transaksi's look-up read: the outcome, and for a found reference its public facts
    (with their JSON, which keys the kept page) and the working-day calendar's raw cached value."""

    outcome: str
    reference: str = ""
    facts: selectors.PublicFacts | None = None
    facts_json: str = ""
    calendar_raw: object = None

    @property
    def may_keep(self) -> bool:
        """Whether the answer for these facts may be kept rendered (``pages.page_memo``): found, read
        through the cache (facts and calendar), and a function of them (not a milestone)."""
        return self.facts is not None and self.calendar_raw is not None and page_memo.may_keep(self.facts)

    def varies_with(self) -> str:
        """What the found transaction's page shows that depends on the time of the look-up, not only
        on the facts: a refund still owed has its refund-by date (``pages.page_memo``)."""
        if self.facts is None or not self.facts.refund_clocks:
            return ""
        due = latest_refund_due_by(self.facts.refund_clocks, calendar=WorkingCalendar.from_cached(self.calendar_raw))
        return due.isoformat() if due else ""

    def lookup(self) -> selectors.TransactionLookup:
        """The public view, labels in the active language (no query except a milestone's plan)."""
        if self.facts is None:
            return selectors.TransactionLookup(self.outcome, reference=self.reference)
        calendar = WorkingCalendar.from_cached(self.calendar_raw)
        return selectors.TransactionLookup(
            LookupOutcome.FOUND, reference=self.reference,
            transaction=selectors.public_transaction(self.facts, calendar, selectors.public_plan(self.facts)))


def _read_facts(request, text: str) -> _FactsRead:
    """Cek Transaksi's look-up within the same budgets as ``_limited_lookup``, in as few round
    trips as possible: the budgets and the cached facts (``pages.public_cache``) come on one Redis
    call; the database is asked only when the facts are not cached (and they are then stored)."""
    outcome, reference = selectors.public_reference(text)
    read = public_cache.lookup_keys(reference) if outcome == LookupOutcome.FOUND else ()
    ip = ratelimit.counted_address(request)
    if outcome != LookupOutcome.FOUND:  # refused without a look-up: no guess to make a place for
        refused, values = ratelimit.PUBLIC_LOOKUPS.hit_unless(ratelimit.PUBLIC_UNKNOWN, ip, read=read)
        place = None
    else:  # a place in the unknown budget, unless the facts are cached (no look-up, no guess)
        refused, place, values = ratelimit.PUBLIC_LOOKUPS.hit_reserving(
            ratelimit.PUBLIC_UNKNOWN, ip, read=read, spared_by=2 if read else 0)
    if refused is not None:
        raise RateLimited(refused, ip)
    if outcome != LookupOutcome.FOUND:
        return _FactsRead(outcome)
    facts_json, generation = public_cache.cached_facts(*values[:2]) if read else (None, "")
    if facts_json is not None:
        if place is not None:
            place.give_back()
        facts = selectors.PublicFacts.from_json(facts_json)
    else:
        if place is None:  # facts were cached but under an old generation: a look-up after all
            place = ratelimit.PUBLIC_UNKNOWN.reserve(ip)
            if place is None:
                raise RateLimited(ratelimit.PUBLIC_UNKNOWN, ip)
        facts = place.look_up(lambda: selectors.public_facts(reference=reference), is_guess=lambda found: found is None)
        if facts is not None:
            facts_json = facts.to_json()
            if read:
                public_cache.store(reference, generation, facts_json)
    if facts is None:
        return _FactsRead(LookupOutcome.UNKNOWN, reference=reference)
    return _FactsRead(LookupOutcome.FOUND, reference=reference, facts=facts, facts_json=facts_json or "",
                      calendar_raw=values[2] if read else None)


@never_cache
@require_safe
def check_transaction(request):
    """Cek Transaksi: the status of a transaction by its reference number, without personal data."""
    asked = "reference" in request.GET
    text = valid_reference_text(request.GET) if asked else None

    def context(**more):  # built only when rendered: a kept page (``pages.page_memo``) has it already
        return {"form": ReferenceForm(request.GET if asked else None),
                "limits": (ratelimit.PUBLIC_LOOKUPS, ratelimit.PUBLIC_UNKNOWN), **more}

    if text is None:
        return render(request, CHECK_TRANSACTION_TEMPLATE, context())
    try:
        found = _read_facts(request, text)
    except RateLimited as exc:
        return _too_many(request, CHECK_TRANSACTION_TEMPLATE, context(), exc)
    if found.may_keep:
        return page_memo.render_public_page(request, CHECK_TRANSACTION_TEMPLATE, lambda: context(lookup=found.lookup()),
                                            facts_json=found.facts_json, calendar_raw=found.calendar_raw,
                                            varies_with=found.varies_with())
    return render(request, CHECK_TRANSACTION_TEMPLATE, context(lookup=found.lookup()))


API_ERRORS = {
    LookupOutcome.MALFORMED: (400, "malformed_reference", gettext_lazy(
        "This is not a reference number. References look like INT-XXXX-XXXX-XXXX.")),
    LookupOutcome.MISTYPED: (400, "mistyped_reference", gettext_lazy(
        "A character of this reference number is mistyped (its check character does not match).")),
    LookupOutcome.UNKNOWN: (404, "unknown_reference", gettext_lazy("No transaction has this reference number.")),
}


@never_cache
@require_safe
def check_transaction_api(request, reference):
    """Cek Transaksi for integrators: JSON, same data and same limits as the page (README)."""
    try:
        found = _read_facts(request, reference)
    except RateLimited as exc:
        response = JsonResponse({"error": "rate_limited", "message": exc.message}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if found.may_keep:
        return HttpResponse(page_memo.kept_json(
            lambda: json.dumps(found.lookup().transaction.as_json(), cls=DjangoJSONEncoder),
            facts_json=found.facts_json, calendar_raw=found.calendar_raw, varies_with=found.varies_with()),
            content_type="application/json")
    lookup = found.lookup()
    if lookup.outcome != LookupOutcome.FOUND:
        status, code, message = API_ERRORS[lookup.outcome]
        return JsonResponse({"error": code, "message": str(message)}, status=status)
    return JsonResponse(lookup.transaction.as_json())


@never_cache
@require_safe
def check_payment(request):
    """Anti-fraud: does this virtual account number / payment code / reference belong to a live
    INTRASA payment? Answers yes or no with the amount to compare, never who is behind it."""
    form = PaymentCodeForm(request.GET if "code" in request.GET else None)
    context = {"form": form, "limits": (ratelimit.PUBLIC_LOOKUPS, ratelimit.PUBLIC_UNKNOWN)}
    if form.is_bound and form.is_valid():
        try:
            context["check"] = _limited_lookup(
                request, lambda: selectors.payment_instruction_check(text=form.cleaned_data["code"]),
                is_unknown=lambda result: result.counts_as_unknown,
            )
        except RateLimited as exc:
            return _too_many(request, "pages/check_payment.html", context, exc)
    return render(request, "pages/check_payment.html", context)


@require_safe
def fees(request):
    """Biaya Layanan: the fee table and a calculator, from one query of the fee schedule."""
    tiers = selectors.fee_schedule()
    form = FeeCalculatorForm(request.GET if "price" in request.GET else None)
    quote = None
    if form.is_bound and form.is_valid():
        try:
            quote = fee_quote(**form.cleaned_data, tiers=tiers)
        except FeeScheduleError as exc:
            form.add_error("price", str(exc))
    return render(request, "pages/fees.html", {
        "form": form, "quote": quote, "rows": selectors.fee_rows(tiers),
        "examples": selectors.fee_examples(tiers),
    })


@require_safe
def refund_policy(request):
    from refunds import policy

    # The per-method table (where the money goes, and when) is the shared ``refunds/_routes.html``.
    return render(request, "pages/refund_policy.html", {
        "address_days": policy.RETURN_ADDRESS_WORKING_DAYS,
        "ship_days": policy.RETURN_SHIP_WORKING_DAYS, "transit_days": policy.RETURN_TRANSIT_WORKING_DAYS,
        "inspection_hours": policy.INSPECTION_WORKING_HOURS, "resend_days": policy.RESEND_SHIP_WORKING_DAYS})


@require_safe
def faq(request):
    return render(request, "pages/faq.html")
