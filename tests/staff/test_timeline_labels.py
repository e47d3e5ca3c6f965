"""Staff read the timeline under translated names too: no raw event keys in the admin (issue 17)."""
import pytest
from django.urls import reverse

from payments import services as payment_services
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db


def test_admin_timeline_shows_translated_event_names(client, customer_service, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="transfer")
    client.force_login(customer_service)
    html = client.get(reverse("admin:transactions_escrowtransaction_change", args=[txn.pk])).content.decode()
    assert "Pembeli memilih metode pembayaran" in html
    assert "payment_method_chosen" not in html
