"""Consents: off until given, every grant and withdrawal recorded with its time and wording, and
separate from the emails the service needs."""
import pytest
from django.urls import reverse

from audit.models import AuditEntry
from privacy import consents, selectors, services
from privacy.models import ConsentEvent

pytestmark = pytest.mark.django_db
URL = reverse("privacy:my_data")


def test_nothing_is_consented_until_the_person_says_so(client, buyer):
    assert all(not state.granted and state.since is None for state in selectors.consent_states(user=buyer))
    client.force_login(buyer)
    page = client.get(URL).content.decode()
    for purpose in consents.PURPOSES:
        assert f'name="{purpose.key}"' in page
        assert f'name="{purpose.key}" id="id_{purpose.key}" checked' not in page
    assert "are part of the service and are always sent" in page
    assert list(selectors.users_consenting(purpose="marketing_email")) == []


def test_grant_and_withdraw_are_recorded_with_time_and_wording(client, buyer, seller):
    client.force_login(buyer)
    response = client.post(reverse("privacy:consents"), {"marketing_email": "on"})
    assert response.status_code == 302
    granted = ConsentEvent.objects.get(user=buyer)
    assert granted.purpose == "marketing_email" and granted.granted and granted.at is not None
    assert granted.wording == str(consents.MARKETING_EMAIL.wording) and granted.language == "en"
    assert list(selectors.users_consenting(purpose="marketing_email")) == [buyer]
    assert list(selectors.users_consenting(purpose="product_news")) == []

    client.post(reverse("privacy:consents"), {"marketing_email": "on"})  # unchanged: no new record
    assert ConsentEvent.objects.filter(user=buyer).count() == 1

    client.post(reverse("privacy:consents"), {})
    withdrawn = ConsentEvent.objects.filter(user=buyer).order_by("-at", "-id").first()
    assert not withdrawn.granted and withdrawn.at >= granted.at
    assert list(selectors.users_consenting(purpose="marketing_email")) == []
    assert AuditEntry.objects.filter(action="privacy.consent_withdraw", actor=buyer).count() == 1
    page = client.get(URL).content.decode()
    assert "withdrawn on" in page


def test_consent_records_cannot_be_edited(buyer):
    event = services.consent_set(user=buyer, purpose="product_news", granted=True)
    event.granted = False
    with pytest.raises(ValueError):
        event.save()


def test_an_unknown_purpose_is_refused(buyer):
    with pytest.raises(services.PrivacyError):
        services.consent_set(user=buyer, purpose="sell_my_data", granted=True)
