"""Account erasure reaches the partner API's stored answers: a retried POST gets its first answer
again for PARTNER_IDEMPOTENCY_DAYS, and that answer shows the buyer's email address and mobile
number. When the buyer erases their account, the answers about them no longer hold either; the
answer stays (a retry still creates nothing twice), and answers about other buyers are untouched."""
from django.utils import timezone

from partners.models import IdempotencyRecord
from privacy import services as privacy_services
from tests.factories import UserFactory
from tests.partners.conftest import post_json, terms
from transactions.models import EscrowTransaction, Status


def test_erasure_empties_the_buyers_contact_from_the_stored_answers(client, setup):
    buyer = UserFactory(email="budi.pembeli@example.co.id", phone="+6281200003333")
    invited = post_json(client, "/api/v1/transactions",
                        terms(setup, buyer_email=buyer.email, buyer_phone=buyer.phone), setup, key="order-1")
    other = post_json(client, "/api/v1/transactions",
                      terms(setup, buyer_email="rina.lain@example.co.id", buyer_phone="+6281299990000",
                            external_id="thread-124"), setup, key="order-2")
    assert invited.status_code == other.status_code == 201, other.json()
    mine, theirs = IdempotencyRecord.objects.get(key="order-1"), IdempotencyRecord.objects.get(key="order-2")
    assert mine.response_body["buyer_email"] == buyer.email and mine.response_body["buyer_phone"] == buyer.phone
    theirs_before = theirs.response_body

    privacy_services.account_erase(user=buyer)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert "budi.pembeli" not in str(mine.response_body) and "81200003333" not in str(mine.response_body)
    assert mine.response_body["reference"] == invited.json()["reference"]  # the answer itself stays
    assert theirs.response_body == theirs_before
    # A retry still gets the (now emptied) first answer and creates nothing twice.
    again = post_json(client, "/api/v1/transactions",
                      terms(setup, buyer_email=buyer.email, buyer_phone=buyer.phone), setup, key="order-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["buyer_email"] == "" and EscrowTransaction.objects.count() == 2


def test_erasure_reaches_the_answers_about_transactions_the_person_bought_in(client, setup):
    buyer = UserFactory(email="andi@example.co.id")
    created = post_json(client, "/api/v1/transactions", terms(setup, buyer_email="andi.lama@example.co.id"), setup,
                        key="order-3")
    # Accepted by the account (its address is not the one the partner typed), then cancelled.
    EscrowTransaction.objects.filter(reference=created.json()["reference"]).update(
        buyer=buyer, status=Status.CANCELLED, closed_at=timezone.now())

    privacy_services.account_erase(user=buyer)

    assert "andi.lama" not in str(IdempotencyRecord.objects.get(key="order-3").response_body)


def test_erasure_empties_the_sellers_name_from_the_stored_link_exchange(client, setup):
    """The answer to ``POST /links/exchange`` carries the seller's name; it is kept for retries and
    must not keep the name of an erased account."""
    import json

    from partners import services

    seller = UserFactory(full_name="Sekar Ayu Penjual", email="sekar@example.co.id")
    _link, code = services.link_approve(partner=setup.partner, user=seller, scopes=["transactions:read"],
                                        redirect_uri="https://forum.example/callback")
    exchanged = client.post("/api/v1/links/exchange", data=json.dumps(
        {"code": code, "redirect_uri": "https://forum.example/callback"}), content_type="application/json",
        **setup.headers(HTTP_IDEMPOTENCY_KEY="ex-9"))
    assert exchanged.status_code == 200 and exchanged.json()["seller_name"] == "Sekar Ayu Penjual"
    others = {record.pk: record.response_body for record in IdempotencyRecord.objects.exclude(key="ex-9")}

    privacy_services.account_erase(user=seller)

    stored = IdempotencyRecord.objects.get(key="ex-9").response_body
    assert "Sekar" not in json.dumps(stored) and stored["link_id"] == exchanged.json()["link_id"]
    assert {record.pk: record.response_body for record in IdempotencyRecord.objects.exclude(key="ex-9")} == others
