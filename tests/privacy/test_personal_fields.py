"""Every model field that can hold personal data is reached by the retention job and by account
erasure, or is declared deliberately kept, with its reason (``privacy.coverage``) — and every
declaration is true: a field declared purged is shown purged here, a field declared erased is shown
erased here."""
import datetime as dt

import pytest
from django.apps import apps
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import EWALLET_PROVIDERS, PayoutDestination
from disbursements.models import Disbursement, Payout, RetryApproval
from disputes.models import Dispute, SettlementOffer
from milestones import services as milestone_services
from notifications.services import notify
from partners.models import IdempotencyRecord
from paylinks import services as paylink_services
from paylinks.models import PaymentLink
from payments.models import BankStatementLine, ProviderNotification
from privacy import coverage, purge, retention, services
from privacy.models import EmailChangeRequest, ErasureRecord, RetainedIdentity, StaffAccessLog
from refunds.models import RefundRequest, ReturnShipment, ShortShipmentClaim
from tests import scenarios
from tests.factories import BankDestinationFactory, UserFactory
from tests.milestones.conftest import propose
from tests.partners.conftest import make_partner
from transactions import services as txn_services
from transactions.models import CLOSED_STATES, EscrowTransaction
from treasury.models import ReconciliationItem

from .conftest import cancelled, refund_document_file, resolved_dispute
from .test_offers_privacy import TERMS, accepted_and_ended_unpaid
from .test_purge import export_ready_at
from .test_purge_in_motion import finished_long_ago

SENTINEL = "SENTINEL-PD-0042"
SENTINEL_EMAIL = "sentinel-pd@example.invalid"
SENTINEL_IP = "203.0.113.77"  # TEST-NET-3 (RFC 5737)
FORTY_YEARS = dt.timedelta(days=366 * 40)


def field_of(label: str):
    app_label, model_name, name = label.split(".")
    model = apps.get_model(app_label, model_name)
    return model, model._meta.get_field(name)


# --- the declaration is complete and says why ------------------------------------------------------

def test_every_field_that_can_hold_personal_data_is_declared():
    found = coverage.personal_fields()
    assert "milestones.MilestonePlan.buyer_email" in found and "disputes.Evidence.file" in found
    assert sorted(set(found) - set(coverage.FIELDS)) == [], "declare these in privacy.coverage.FIELDS"
    assert sorted(set(coverage.FIELDS) - set(found)) == [], "these declared fields no longer exist"


def test_the_finder_looks_at_types_and_names():
    assert coverage.is_personal(models.EmailField(name="anything"))
    assert coverage.is_personal(models.ImageField(name="avatar"))
    assert coverage.is_personal(models.GenericIPAddressField(name="ip_address"))
    assert coverage.is_personal(models.JSONField(name="payload"))
    for name in ("full_name", "ewallet_phone", "buyer_address", "account_no", "delivery_note", "title",
                 "rejected_reason", "statement", "last_response_message"):
        assert coverage.is_personal(models.CharField(name=name, max_length=10)), name
    assert not coverage.is_personal(models.CharField(name="reference", max_length=10))
    assert not coverage.is_personal(models.CharField(name="reason", max_length=10, choices=[("a", "A")]))


def test_whatever_is_not_reached_by_both_says_why_and_the_rules_exist():
    for label, handling in coverage.FIELDS.items():
        assert handling.purge or handling.erasure or handling.kept, label
        if not (handling.purge and handling.erasure):
            assert len(handling.kept) > 20, f"{label}: say why the purge or the erasure leaves it"
        assert set(handling.purge) <= set(retention.BY_KEY), label


# --- every field declared purged is purged ---------------------------------------------------------

# The rows a rule reaches, where it does not reach every row of the model: a payout destination is
# the person's account data while the account is open (only an erased owner's goes with the
# records), and a payment link the seller keeps open is their live listing.
PURGE_SCOPE = {
    "accounts.PayoutDestination": lambda: Q(owner__in=ErasureRecord.objects.values("user_id")),
    "paylinks.PaymentLink": lambda: Q(status=PaymentLink.Status.CLOSED),
}
# A field a row of one kind may not hold (a bank account has no e-wallet phone): only those rows get it.
SENTINEL_ROWS = {
    "accounts.PayoutDestination.account_number": Q(kind="bank"),
    "accounts.PayoutDestination.ewallet_phone": Q(kind="ewallet"),
    "disbursements.Disbursement.account_number": Q(kind="bank"),
    "disbursements.Disbursement.ewallet_phone": Q(kind="ewallet"),
}
# Append-only tables (a database trigger refuses UPDATE): created with the sentinels instead.
CREATED_WITH_SENTINELS = {"privacy.StaffAccessLog"}


def _finished_world(seller, buyer, officer, staff):
    """One row at least of every model with a field declared purged, everything of it finished."""
    now = timezone.now()
    dispute = resolved_dispute(seller, buyer, officer)
    txn = dispute.escrow_transaction
    request = RefundRequest.objects.get(dispute=dispute)
    refund_document_file(request, uploader=buyer)
    SettlementOffer.objects.create(dispute=dispute, proposed_by=buyer, role="buyer", outcome="refund", buyer_amount=1,
                                   respond_by=now)
    ShortShipmentClaim.objects.create(dispute=dispute, missing_items="x", missing_value=1)
    if not ReturnShipment.objects.filter(refund_request=request).exists():
        ReturnShipment.objects.create(refund_request=request, rma_number="RMA-PD-1", address_due_at=now)
    ReturnShipment.objects.filter(refund_request=request).update(status=ReturnShipment.Status.ACCEPTED,
                                                                 inspected_at=now)
    payee = UserFactory(full_name="Penerima Dana")
    destination = BankDestinationFactory(owner=payee)
    payout = Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT, recipient=payee,
                                   amount=1, status=Payout.Status.COMPLETED, completed_at=now)
    failed = Disbursement.objects.create(payout=payout, sequence=1, kind="bank", amount=1, destination=destination,
                                         bank_code="014", account_number="1", partner_reference_no="PD-1",
                                         description="x", status=Disbursement.Status.FAILED, completed_at=now)
    Disbursement.objects.create(payout=payout, sequence=2, kind="bank", amount=1, destination=destination,
                                bank_code="014", account_number="1", partner_reference_no="PD-2", description="x",
                                status=Disbursement.Status.SUCCEEDED, completed_at=now)
    RetryApproval.objects.create(failed=failed, destination=destination, reason="x", requested_by=staff,
                                 status=RetryApproval.Status.APPROVED)
    for target in (txn, failed):  # Finance settled a difference on the transaction and on one of its transfers
        ReconciliationItem.objects.create(
            day=now.date(), source=ReconciliationItem.Source.SENDME_STATUS, code="status_mismatch",
            reference=f"PD-{target._meta.model_name}-{target.pk}", object_type=target._meta.label,
            object_id=str(target.pk), state=ReconciliationItem.State.RESOLVED, resolution="x", resolved_by=staff,
            resolved_at=now)
    wallet = PayoutDestination.objects.create(owner=payee, kind="ewallet", ewallet_provider=next(iter(EWALLET_PROVIDERS)),
                                              ewallet_phone="081200002222", account_holder_name="Penerima Dana")
    Disbursement.objects.create(payout=payout, sequence=3, kind="ewallet", amount=1, destination=wallet,
                                ewallet_provider=wallet.ewallet_provider, ewallet_phone=wallet.ewallet_phone,
                                partner_reference_no="PD-3", description="x", status=Disbursement.Status.SUCCEEDED,
                                completed_at=now)
    # Faspay's notification about the transaction's bill (its payload is replaced by a marker below).
    ProviderNotification.objects.create(trx_id="PD-TRX-1", bill_no=txn.bills.first().bill_no, status_code="2",
                                        payload={}, bill=txn.bills.first())
    services.login_record_create(user=buyer, ip_address="198.51.100.7", user_agent="x", session_key="")
    finished_long_ago(txn)
    RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.COMPLETED)
    Dispute.objects.filter(pk=dispute.pk).update(status=Dispute.Status.RESOLVED)
    erasure = services.account_erase(user=payee)  # a destination money went to, of an erased owner
    RetainedIdentity.objects.create(erasure=erasure, delete_after=now, full_name="x", email="x@example.co.id")
    cancelled(seller, buyer)
    BankStatementLine.objects.create(booked_on=now.date(), description="x", amount=1, bank_reference="PD-1",
                                     imported_by=staff)
    StaffAccessLog.objects.create(staff=staff, staff_label=SENTINEL, kind="user_profile", object_id="1", subject=buyer,
                                  path="/", reason=SENTINEL, ip_address=SENTINEL_IP)
    EmailChangeRequest.objects.create(user=seller, new_email="x@example.co.id", token_digest="f" * 64, expires_at=now)
    export_ready_at(buyer, now)
    notify(event_key="pd", kind="confirmed_buyer", recipient=buyer,
           context={"reference": "INT-1", "title": "t", "amount": "Rp 1", "seller": "s"})
    accepted_and_ended_unpaid(seller, buyer, amounts=(1_000_000, 1_000_000))
    milestone_services.milestone_plan_decline(plan=propose(seller, buyer), user=buyer, reason="Mahal")
    propose(seller, buyer)
    paylink_services.payment_link_close(
        payment_link=paylink_services.payment_link_create(seller=seller, title="x", **TERMS), seller=seller)
    used = paylink_services.payment_link_create(seller=seller, title="x", **TERMS)
    txn_services.transaction_cancel(escrow_transaction=paylink_services.payment_link_start(payment_link=used, buyer=buyer),
                                    actor=seller, reason="Stok habis")
    paylink_services.payment_link_close(payment_link=used, seller=seller)
    paylink_services.payment_link_create(seller=seller, title="Masih dijual", **TERMS)


def _scoped(model):
    scope = PURGE_SCOPE.get(model._meta.label)
    return model.objects.filter(scope()) if scope else model.objects.all()


def _sentinel(field):
    """The marker a field gets, by its type: inside a value of a JSON field, an address of an IP field."""
    if isinstance(field, models.JSONField):
        return {"x": SENTINEL}
    if isinstance(field, models.GenericIPAddressField):
        return SENTINEL_IP
    value = SENTINEL_EMAIL if isinstance(field, models.EmailField) else SENTINEL
    return value[:field.max_length] if field.max_length else value


def _holding(model, field):
    rows = _scoped(model)
    if isinstance(field, models.FileField):
        return rows.exclude(**{field.name: ""})
    if isinstance(field, models.GenericIPAddressField):
        return rows.filter(**{field.name: SENTINEL_IP})
    # On a JSON field, icontains looks at the whole value written out as JSON text.
    return rows.filter(**{f"{field.name}__icontains": "sentinel"})


@pytest.mark.django_db
def test_every_field_declared_purged_is_purged_by_the_retention_job(seller, buyer, dispute_officer, evidence_reader):
    _finished_world(seller, buyer, dispute_officer, evidence_reader)
    declared = [label for label, handling in coverage.FIELDS.items() if handling.purge]
    for label in declared:
        model, field = field_of(label)
        if model._meta.label not in CREATED_WITH_SENTINELS and not isinstance(field, models.FileField):
            _scoped(model).filter(SENTINEL_ROWS.get(label, Q())).update(**{field.name: _sentinel(field)})
        assert _holding(model, field).exists(), f"{label}: the world has no row holding it, so nothing shows it purged"

    purge.retention_apply(now=timezone.now() + FORTY_YEARS)

    left = {label: list(_holding(*field_of(label)).values_list(field_of(label)[1].name, flat=True)[:3])
            for label in declared}
    assert {label: values for label, values in left.items() if values} == {}


# --- every field declared erased is erased ---------------------------------------------------------

# Where the erased person's own values of each model are (the rows the erasure must clear).
PERSON_ROWS = {
    "accounts.User": lambda person: Q(pk=person.pk),
    "notifications.Notification": lambda person: Q(recipient=person),
    "privacy.EmailChangeRequest": lambda person: Q(user=person),
    "privacy.PersonalDataExport": lambda person: Q(user=person),
    # Where they are the buyer, and invitations to their address that ended without being accepted.
    "transactions.EscrowTransaction": lambda person: Q(buyer=person) | Q(
        buyer__isnull=True, buyer_email=person.email, status__in=CLOSED_STATES),
    "milestones.MilestonePlan": lambda person: Q(buyer=person) | Q(pk__in=[plan.pk for plan in person.invited_to]),
    # The partner API's stored answers showing their address or number.
    "partners.IdempotencyRecord": lambda person: Q(response_body__buyer_email__iexact=person.email) | Q(
        response_body__buyer_phone=person.phone),
}


@pytest.mark.django_db
def test_every_field_declared_erased_is_erased_by_account_erasure(seller, buyer):
    now = timezone.now()
    buyer.phone = "+6281200001111"
    buyer.save()
    cancelled(seller, buyer)
    EscrowTransaction.objects.filter(buyer=buyer).update(buyer_phone=buyer.phone)
    never_accepted = txn_services.transaction_cancel(escrow_transaction=scenarios.create(seller, buyer), actor=seller,
                                                     reason="Salah alamat")
    assert never_accepted.buyer_id is None and never_accepted.buyer_email == buyer.email
    notify(event_key="pd", kind="confirmed_buyer", recipient=buyer,
           context={"reference": "INT-1", "title": "t", "amount": "Rp 1", "seller": "s"})
    EmailChangeRequest.objects.create(user=buyer, new_email="budi.baru@example.co.id", token_digest="e" * 64,
                                      expires_at=now)
    export_ready_at(buyer, now)
    accepted_and_ended_unpaid(seller, buyer, amounts=(1_000_000, 1_000_000))
    partner = make_partner()[0]
    IdempotencyRecord.objects.create(partner=partner, key="pd-1", fingerprint="f", response_status=201,
                                     response_body={"reference": "INT-PD", "buyer_email": buyer.email,
                                                    "buyer_phone": buyer.phone, "title": "t"})
    buyer.invited_to = [propose(seller, buyer),
                        milestone_services.milestone_plan_decline(plan=propose(seller, buyer), user=buyer, reason="x")]

    declared = [label for label, handling in coverage.FIELDS.items() if handling.erasure]
    before = {}
    for label in declared:
        model, field = field_of(label)
        assert model._meta.label in PERSON_ROWS, f"{label}: say here where the person's values are"
        rows = {pk: value for pk, value in model.objects.filter(PERSON_ROWS[model._meta.label](buyer))
                .values_list("pk", field.name) if value}
        assert rows, f"{label}: the person has no value of it, so nothing shows it erased"
        before[label] = rows

    email, phone = buyer.email, buyer.phone
    services.account_erase(user=buyer)

    for label in declared:
        model, field = field_of(label)
        after = dict(model.objects.filter(pk__in=before[label]).values_list("pk", field.name))
        assert all(after.get(pk) != value for pk, value in before[label].items()), label
        if isinstance(field, models.JSONField):  # changed is not enough: the person's contact is gone from it
            assert not [value for value in after.values() if email in str(value) or phone in str(value)], label
