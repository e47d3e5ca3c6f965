"""The partner links section of a person's data archive (UU PDP Pasal 7, 13, 32): which forums or
marketplaces the seller allowed to act for them, with what permissions, from when until when.

It lives here, not in ``privacy.export``, because privacy sits below partners in the import
direction (DESIGN.md §2) and may not import it; ``PartnersConfig.ready()`` registers it with
``privacy.export.section_register``. The partner itself is a business registered by staff, not a
person (``privacy.export.NOT_EXPORTED``); only its name appears here.
"""
from django.utils.translation import gettext_lazy as _

from privacy.export import Collected, Section

from .models import LINK_SCOPES, SellerLink


def collect(user) -> Collected:
    links = SellerLink.objects.filter(user=user).select_related("partner").order_by("created_at", "id")
    return Collected([{
        "partner": link.partner.name,
        "scopes": "; ".join(str(LINK_SCOPES.get(scope, scope)) for scope in link.scopes),
        "linked_at": link.created_at,
        "revoked_at": link.revoked_at,
    } for link in links])


SECTION = Section("partner_links", _("Partners you linked your account to"), ("partners.SellerLink",), collect)


def erase(*, user) -> None:
    """When the seller's account is erased, every live link is revoked (``partners.services``): the
    partner can no longer create transactions in an erased account's name. Transactions it made
    stay, as the transaction records they are. When the buyer's is, the partner API's stored answers
    (``IdempotencyRecord``, kept a few days for retries) no longer show their email address or
    mobile number (called before erasure replaces the account's own address)."""
    from .services import idempotency_answers_scrub, link_revoke

    for link_id in SellerLink.objects.filter(user=user, revoked_at__isnull=True).values_list("pk", flat=True):
        link_revoke(link_id=link_id, user=user)
    idempotency_answers_scrub(user=user)
