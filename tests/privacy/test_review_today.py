"""Review of the privacy-class merge (review-today): defects found, each shown by a failing test."""
import datetime as dt

import pytest
from django.db import models
from django.utils import timezone

from disputes.models import Dispute
from privacy import coverage, purge
from refunds.models import RefundRequest, ShortShipmentClaim
from tests.privacy.conftest import resolved_dispute
from tests.privacy.test_purge_in_motion import finished_long_ago

FORTY_YEARS = dt.timedelta(days=366 * 40)
WORDS = "Charger dan kotak tidak ada; kurir bilang diterima Bu Sari, Jl. Melati 7"


@pytest.mark.django_db
def test_a_short_shipment_claims_text_is_purged_with_the_dispute(seller, buyer, dispute_officer):
    """What the buyer wrote was missing from the parcel is their own free text about the case (often
    naming who received it, where): it must go when the dispute's conversation goes."""
    dispute = resolved_dispute(seller, buyer, dispute_officer)
    claim = ShortShipmentClaim.objects.create(dispute=dispute, missing_items=WORDS, missing_value=100_000)
    finished_long_ago(dispute.escrow_transaction)
    RefundRequest.objects.filter(dispute=dispute).update(status=RefundRequest.Status.COMPLETED)
    Dispute.objects.filter(pk=dispute.pk).update(status=Dispute.Status.RESOLVED)

    purge.retention_apply(now=timezone.now() + FORTY_YEARS)

    assert ShortShipmentClaim.objects.get(pk=claim.pk).missing_items != WORDS


def test_the_finder_takes_every_free_text_field_whatever_its_name():
    """A TextField is free text someone typed: the finder must not let one through because its name
    is not in PERSONAL_NAME (``missing_items`` was neither declared nor purged)."""
    assert coverage.is_personal(ShortShipmentClaim._meta.get_field("missing_items"))
    assert coverage.is_personal(models.TextField(name="anything"))
    assert "refunds.ShortShipmentClaim.missing_items" in coverage.personal_fields()


@pytest.mark.django_db
def test_erasure_clears_the_persons_phone_from_closed_invitations_they_never_accepted(seller, buyer):
    """0c909a4 clears the erased person's email from invitations that ended unaccepted ("it holds
    nothing of theirs but the address"); an invitation sent to their mobile number is the same, and
    privacy.coverage declares buyer_phone "As buyer_email". Both sides are normalised E.164
    (accounts.forms / transactions.forms: normalize_indonesian_mobile), so the match is exact."""
    from privacy import services
    from tests import scenarios
    from transactions import services as txn_services
    from transactions.models import EscrowTransaction

    buyer.phone = "+6281211112222"
    buyer.save()
    invitation = scenarios.create(seller, buyer_phone=buyer.phone)
    txn_services.transaction_cancel(escrow_transaction=invitation, actor=seller, reason="Salah nomor")
    assert EscrowTransaction.objects.get(pk=invitation.pk).buyer_id is None

    services.account_erase(user=buyer)

    assert EscrowTransaction.objects.get(pk=invitation.pk).buyer_phone == ""


@pytest.mark.django_db
def test_an_anonymised_offers_title_is_not_left_in_the_audit_trail(seller, buyer):
    """audit_record stores ``str(target)`` as object_repr: a plan's title, a link's "title (token)". The
    offers rule and erasure promise the titles go (retention.UNACCEPTED_OFFERS.at_end, the erase page);
    the audit trail keeps them 10 years from year end (AUDIT_TRAIL), twice the offers' 5. The coverage
    finder never sees it: ``object_repr`` matches no word of PERSONAL_NAME."""
    from audit.models import AuditEntry
    from milestones import services as milestone_services
    from paylinks import services as paylink_services
    from privacy import services
    from tests.milestones.conftest import propose

    from .test_offers_privacy import TERMS

    plan = milestone_services.milestone_plan_decline(plan=propose(buyer, seller), user=seller, reason="Mahal")
    link = paylink_services.payment_link_create(seller=buyer, title="Casing iPhone Bu Sari", **TERMS)
    titles = (plan.title, link.title)

    services.account_erase(user=buyer)

    left = [(entry.action, entry.object_repr) for entry in AuditEntry.objects.all()
            if any(title in entry.object_repr for title in titles)]
    assert left == []


@pytest.mark.django_db
def test_a_plan_anonymised_by_the_retention_job_offers_no_milestone_to_open(seller, buyer):
    """An accepted plan whose milestones all ended unpaid goes with its transactions' records
    (milestones.selectors.plans_past_their_period), yet milestone_open_refusal still says its
    milestones can be opened again (ENDED_UNPAID). Trying it fails deep in transaction_create with
    "Give the buyer's email address or mobile number." (the purge emptied buyer_email): the wrong
    message to the buyer or seller who clicked, on a page that offered the button."""
    from milestones import services as milestone_services
    from milestones.models import MilestonePlan

    from .test_offers_privacy import accepted_and_ended_unpaid
    from .test_purge_in_motion import TWELVE_YEARS

    plan = accepted_and_ended_unpaid(seller, buyer, amounts=(1_000_000, 1_000_000))
    purge.retention_apply(now=timezone.now() + TWELVE_YEARS)
    plan = MilestonePlan.objects.get(pk=plan.pk)
    first = plan.milestones.select_related("escrow_transaction").get(position=1)

    assert milestone_services.milestone_open_refusal(plan=plan, milestone=first, previous=None) is not None
