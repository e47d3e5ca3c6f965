"""The bank account check answers on the profile while the seller waits (issue 17): the list polls
its status while an account is being checked, and refreshes when the answer arrives."""
import pytest
from django.urls import reverse

from accounts.models import PayoutDestination
from tests.factories import BankDestinationFactory

pytestmark = pytest.mark.django_db


def test_profile_polls_while_a_bank_account_is_checked(client, seller):
    destination = BankDestinationFactory(owner=seller, verification=PayoutDestination.Verification.UNVERIFIED)
    client.force_login(seller)
    page = client.get(reverse("accounts:profile"))
    html = page.content.decode()
    assert 'data-testid="destination-checking"' in html and 'data-testid="live-poll"' in html
    token = page.context["destinations_token"]
    status_url = reverse("accounts:destinations_status")
    assert client.get(status_url, {"seen": token}).status_code == 204

    PayoutDestination.objects.filter(pk=destination.pk).update(verification=PayoutDestination.Verification.VERIFIED)
    changed = client.get(status_url, {"seen": token})
    assert changed.status_code == 200 and "intrasa:changed" in changed["HX-Trigger"]
    assert 'data-testid="live-poll"' not in client.get(reverse("accounts:profile")).content.decode()


def test_destination_status_needs_a_login(client):
    response = client.get(reverse("accounts:destinations_status"))
    assert response.status_code == 302
