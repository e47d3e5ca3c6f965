"""What INTRASA asks consent for, and what it does not.

Consent (UU PDP Pasal 20 ayat (2) huruf a) is only the basis for things a person may refuse
without losing the service. Everything the escrow service needs — transaction and payment emails,
reminders, security alerts, verification links — rests on the contract (huruf b) or on a legal
obligation (huruf c), so it is not a consent and cannot be switched off here; the privacy page says
so. Each purpose below is off until the person switches it on (no pre-ticked boxes, Pasal 22), and
every switch is recorded with its time and the exact wording shown (``ConsentEvent``), which is the
proof Pasal 24 asks for.

No marketing email is sent by INTRASA today. Whatever sends one later must pick its recipients
with ``privacy.selectors.users_consenting(purpose=...)``.
"""
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Purpose:
    key: str
    label: Promise
    wording: Promise  # what the person agrees to, shown next to the switch and stored with it


MARKETING_EMAIL = Purpose(
    key="marketing_email",
    label=_("Offers and promotions by email"),
    wording=_("INTRASA may email me offers and promotions, at most twice a month."),
)
PRODUCT_NEWS = Purpose(
    key="product_news",
    label=_("News about INTRASA"),
    wording=_("INTRASA may email me news about new features and changes to the service."),
)
RESEARCH = Purpose(
    key="research",
    label=_("Surveys"),
    wording=_("INTRASA may invite me by email to short surveys about the service."),
)

PURPOSES: tuple[Purpose, ...] = (MARKETING_EMAIL, PRODUCT_NEWS, RESEARCH)
BY_KEY = {purpose.key: purpose for purpose in PURPOSES}
CHOICES = [(purpose.key, purpose.label) for purpose in PURPOSES]
