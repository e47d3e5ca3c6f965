"""``transactions.selectors.transaction_detail_for_party``: anyone but a party gets 404, whoever asks.

Before the page's read was compiled once (``intrasa.prepared``), a user with no key could not even be
asked about (the ORM refused ``recipient=AnonymousUser()``). Now the key is sent as a parameter: a
null key matches no notification and no payout, and ``None in (seller_id, buyer_id)`` is true for an
invitation nobody accepted yet, so the selector hands that transaction (its invitation token with it)
to someone who is nobody. Only the view's ``login_required`` stands in front of it."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from tests import scenarios
from transactions import selectors

pytestmark = pytest.mark.django_db


def test_nobody_is_no_party_to_an_invitation_nobody_accepted(seller):
    invited = scenarios.create(seller, None)
    assert invited.buyer_id is None
    with pytest.raises(Http404):
        selectors.transaction_detail_for_party(user=AnonymousUser(), reference=invited.reference)


def test_a_user_object_without_a_key_is_no_party_either(seller, buyer):
    invited = scenarios.create(seller, None)
    unsaved = type(buyer)(email="belum.disimpan@example.co.id", full_name="Belum Disimpan")
    with pytest.raises(Http404):
        selectors.transaction_detail_for_party(user=unsaved, reference=invited.reference)
