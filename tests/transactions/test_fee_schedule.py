"""Staff change the fee schedule only through ``transactions.fees``' services: with a reason, an
audit row, and never two tiers for the same amount (the services refuse it, and on PostgreSQL the
exclusion constraint of migration 0003 refuses it even to two staff saving at the same moment)."""
import importlib

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEntry
from tests.factories import StaffFactory
from transactions import fees
from transactions.models import FeeTier

pytestmark = pytest.mark.django_db

DEFAULT_TIERS = importlib.import_module("transactions.migrations.0002_default_fee_schedule").DEFAULT_TIERS
GAP = {"min_amount": 0, "max_amount": 9_999, "flat_fee": 1_000, "percent_basis_points": 0, "minimum_fee": 0,
       "maximum_fee": None}  # below the default schedule's first tier (Rp 10.000)


@pytest.fixture(autouse=True)
def default_schedule(db):
    """The schedule of migration 0002 (a run that skipped data migrations has none)."""
    if not FeeTier.objects.exists():
        FeeTier.objects.bulk_create([
            FeeTier(min_amount=lo, max_amount=hi, flat_fee=flat, percent_basis_points=bp, minimum_fee=minimum,
                    maximum_fee=maximum) for lo, hi, flat, bp, minimum, maximum in DEFAULT_TIERS])
    assert FeeTier.objects.count() == len(DEFAULT_TIERS)


@pytest.fixture
def root(db):
    return StaffFactory(email="root@intrasa.co.id", full_name="Rina Admin", is_superuser=True)


@pytest.fixture
def editor(db):
    """Staff with the fee tier permissions, and nothing else."""
    user = StaffFactory(email="tarif@intrasa.co.id", full_name="Tono Tarif")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="transactions",
                                                         codename__in=["view_feetier", "add_feetier",
                                                                       "change_feetier", "delete_feetier"]))
    return type(user).objects.get(pk=user.pk)


def top_tier() -> FeeTier:
    return FeeTier.objects.get(max_amount__isnull=True)


def schedule() -> list:
    return sorted(FeeTier.objects.values_list(*fees.TIER_FIELDS))


# --- the services ---------------------------------------------------------------------------

def test_create_saves_the_tier_with_its_reason_in_the_audit_log(editor):
    tier = fees.fee_tier_create(actor=editor, reason="Transaksi kecil di bawah Rp 10.000", values=GAP)
    assert FeeTier.objects.filter(pk=tier.pk, min_amount=0, max_amount=9_999, flat_fee=1_000).exists()
    audit = AuditEntry.objects.get(action="fee_tier.add")
    assert audit.actor == editor and audit.reason == "Transaksi kecil di bawah Rp 10.000"
    assert audit.object_id == str(tier.pk) and audit.data == {"after": GAP}
    assert fees.fee_quote(price=5_000, shipping_cost=0, fee_payer="buyer").fee == 1_000


@pytest.mark.parametrize("min_amount,max_amount,other", [
    (500_000, 2_000_000, "Rp 10.000 – Rp 1.000.000"),  # straddles two tiers: the first is named
    (1_000_000, 1_000_000, "Rp 10.000 – Rp 1.000.000"),  # touches the first tier's inclusive upper limit
    (900_000_000, None, "Rp 100.000.001"),  # inside the unbounded top tier
    (0, 10_000, "Rp 10.000 – Rp 1.000.000"),  # touches the first tier's lower limit
])
def test_an_overlapping_tier_is_refused_with_the_other_tier_named(editor, in_english, min_amount, max_amount, other):
    before = schedule()
    with pytest.raises(fees.FeeTierError) as refused:
        fees.fee_tier_create(actor=editor, reason="Coba tumpang tindih",
                             values={**GAP, "min_amount": min_amount, "max_amount": max_amount})
    assert refused.value.code == "overlap" and other in refused.value.message
    assert schedule() == before and not AuditEntry.objects.filter(action__startswith="fee_tier").exists()


def test_the_database_refuses_overlapping_tiers_by_itself():
    """Migration 0003's exclusion constraint: whatever code writes the table."""
    with pytest.raises(IntegrityError, match=fees.OVERLAP_CONSTRAINT), transaction.atomic():
        FeeTier.objects.create(min_amount=2_000_000_000, max_amount=None)  # inside the unbounded top tier
    with pytest.raises(IntegrityError, match=fees.OVERLAP_CONSTRAINT), transaction.atomic():
        FeeTier.objects.create(min_amount=0, max_amount=10_000)  # shares Rp 10.000 with the first tier
    FeeTier.objects.create(min_amount=0, max_amount=9_999)  # adjacent is fine


def test_a_tier_saved_at_the_same_moment_is_refused_by_the_constraint_with_a_message(editor, in_english,
                                                                                     monkeypatch):
    """Two staff each pass the check before either saves: the second save meets the constraint,
    and the service turns it into its refusal (no 500, nothing saved, nothing audited)."""
    monkeypatch.setattr(fees, "fee_tier_overlapping", lambda **kwargs: None)
    before = schedule()
    with transaction.atomic():
        with pytest.raises(fees.FeeTierError) as refused:
            fees.fee_tier_create(actor=editor, reason="Bersamaan", values={**GAP, "max_amount": 50_000})
        assert refused.value.code == "overlap" and "Rp 0 – Rp 50.000" in refused.value.message
        assert FeeTier.objects.count() == len(DEFAULT_TIERS)  # the transaction is still usable
    assert schedule() == before and not AuditEntry.objects.filter(action__startswith="fee_tier").exists()


def test_change_records_before_and_after(editor):
    tier = FeeTier.objects.get(min_amount=10_000)
    fees.fee_tier_change(fee_tier=tier, actor=editor, reason="Biaya naik mulai Juli",
                         values={**{f: getattr(tier, f) for f in fees.TIER_FIELDS}, "flat_fee": 6_000})
    tier.refresh_from_db()
    assert tier.flat_fee == 6_000
    audit = AuditEntry.objects.get(action="fee_tier.change")
    assert audit.reason == "Biaya naik mulai Juli"
    assert audit.data["before"]["flat_fee"] == 5_000 and audit.data["after"]["flat_fee"] == 6_000


def test_a_tier_may_keep_its_own_range_but_not_grow_into_its_neighbour(editor, in_english):
    tier = FeeTier.objects.get(min_amount=10_000)
    values = {f: getattr(tier, f) for f in fees.TIER_FIELDS}
    with pytest.raises(fees.FeeTierError) as refused:
        fees.fee_tier_change(fee_tier=tier, actor=editor, reason="Perluas", values={**values, "max_amount": 1_000_001})
    assert refused.value.code == "overlap" and "Rp 1.000.001 – Rp 5.000.000" in refused.value.message
    fees.fee_tier_change(fee_tier=tier, actor=editor, reason="Mulai dari nol", values={**values, "min_amount": 0})
    tier.refresh_from_db()
    assert (tier.min_amount, tier.max_amount) == (0, 1_000_000)


@pytest.mark.parametrize("change,code", [
    ({"max_amount": 5_000}, "invalid_range"),
    ({"minimum_fee": 10_000, "maximum_fee": 9_000}, "invalid_fee"),
    ({"flat_fee": -1}, "invalid_amount"),
    ({"percent_basis_points": 10_001}, "invalid_amount"),
    ({"min_amount": 1.5}, "invalid_amount"),
])
def test_impossible_tiers_are_refused(editor, change, code):
    with pytest.raises(fees.FeeTierError) as refused:
        fees.fee_tier_create(actor=editor, reason="Coba", values={**GAP, "min_amount": 6_000, **change})
    assert refused.value.code == code
    assert FeeTier.objects.count() == len(DEFAULT_TIERS)


def test_delete_is_audited_with_the_tier_it_removed(editor):
    tier = FeeTier.objects.get(min_amount=10_000)
    fees.fee_tier_delete(fee_tier=tier, actor=editor, reason="Digabung dengan tingkat berikutnya")
    assert not FeeTier.objects.filter(pk=tier.pk).exists()
    audit = AuditEntry.objects.get(action="fee_tier.delete")
    assert audit.object_id == str(tier.pk) and audit.reason.startswith("Digabung")
    assert audit.data["before"]["min_amount"] == 10_000


def test_a_reason_and_the_permission_are_required(editor):
    tier = FeeTier.objects.get(min_amount=10_000)
    with pytest.raises(fees.FeeTierError) as refused:
        fees.fee_tier_delete(fee_tier=tier, actor=editor, reason="  ")
    assert refused.value.code == "reason_required"
    reader = StaffFactory(email="baca@intrasa.co.id")
    for call in (lambda: fees.fee_tier_create(actor=reader, reason="Coba", values=GAP),
                 lambda: fees.fee_tier_delete(fee_tier=tier, actor=reader, reason="Coba")):
        with pytest.raises(fees.FeeTierError) as refused:
            call()
        assert refused.value.code == "forbidden"
    assert FeeTier.objects.count() == len(DEFAULT_TIERS) and not AuditEntry.objects.exists()


# --- the admin calls them -------------------------------------------------------------------

def form_data(**values):
    data = {**GAP, "max_amount": "9.999", "maximum_fee": "", "reason": "Transaksi kecil"}
    data.update(values)
    return {key: "" if value is None else value for key, value in data.items()}


def test_admin_add_goes_through_the_service_with_the_reason(client, root):
    client.force_login(root)
    response = client.post(reverse("admin:transactions_feetier_add"), form_data())
    assert response.status_code == 302
    audit = AuditEntry.objects.get(action="fee_tier.add")
    assert audit.actor == root and audit.reason == "Transaksi kecil"
    assert FeeTier.objects.filter(min_amount=0, max_amount=9_999).exists()


def test_admin_requires_a_reason(client, root):
    client.force_login(root)
    response = client.post(reverse("admin:transactions_feetier_add"), form_data(reason=""))
    assert response.status_code == 200 and "reason" in response.context["adminform"].form.errors
    assert FeeTier.objects.count() == len(DEFAULT_TIERS)


def test_admin_shows_an_overlap_on_the_form_instead_of_a_500(client, root, in_english):
    client.force_login(root)
    before = schedule()
    response = client.post(reverse("admin:transactions_feetier_add"),
                           form_data(min_amount="900.000.000", max_amount=""), follow=True)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors and "overlap the tier from Rp 100.000.001" in errors[0]
    assert schedule() == before and not AuditEntry.objects.exists()


def test_admin_reports_the_constraints_refusal_instead_of_a_500(client, root, in_english, monkeypatch):
    monkeypatch.setattr(fees, "fee_tier_overlapping", lambda **kwargs: None)  # another save won the race
    client.force_login(root)
    before = schedule()
    response = client.post(reverse("admin:transactions_feetier_add"),
                           form_data(min_amount="900.000.000", max_amount=""), follow=True)
    assert response.status_code == 200
    assert any("overlap another tier" in str(m) for m in response.context["messages"])
    assert schedule() == before and not AuditEntry.objects.exists()


def test_admin_change_goes_through_the_service(client, root):
    tier = top_tier()
    client.force_login(root)
    response = client.post(reverse("admin:transactions_feetier_change", args=[tier.pk]), form_data(
        min_amount="100.000.001", max_amount="", flat_fee="0", percent_basis_points="25", minimum_fee="400.000",
        maximum_fee="2.500.000", reason="Biaya turun untuk transaksi besar"))
    assert response.status_code == 302
    tier.refresh_from_db()
    assert tier.percent_basis_points == 25
    audit = AuditEntry.objects.get(action="fee_tier.change")
    assert audit.actor == root and audit.data["before"]["percent_basis_points"] == 30


def test_admin_delete_asks_for_a_reason_and_shows_what_goes(client, root, in_english):
    tier = FeeTier.objects.get(min_amount=10_000)
    url = reverse("admin:transactions_feetier_delete", args=[tier.pk])
    client.force_login(root)
    page = client.get(url)
    assert page.status_code == 200 and "Rp 10.000 – Rp 1.000.000" in page.content.decode()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors
    assert FeeTier.objects.filter(pk=tier.pk).exists()
    response = client.post(url, {"reason": "Digabung dengan tingkat berikutnya"})
    assert response.status_code == 302 and not FeeTier.objects.filter(pk=tier.pk).exists()
    assert AuditEntry.objects.get(action="fee_tier.delete").actor == root


def test_admin_offers_no_bulk_delete(client, root):
    client.force_login(root)
    response = client.get(reverse("admin:transactions_feetier_changelist"))
    action_form = response.context["action_form"]  # None: no action at all
    assert action_form is None or "delete_selected" not in dict(action_form.fields["action"].choices)
    tier = FeeTier.objects.get(min_amount=10_000)
    client.post(reverse("admin:transactions_feetier_changelist"),
                {"action": "delete_selected", "_selected_action": [tier.pk], "post": "yes"})
    assert FeeTier.objects.filter(pk=tier.pk).exists()


def test_admin_says_once_why_a_range_is_impossible(client, root, in_english):
    client.force_login(root)
    response = client.post(reverse("admin:transactions_feetier_add"), form_data(min_amount="5.000", max_amount="1.000"))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "The upper limit of a tier cannot be below its lower limit."]
    assert FeeTier.objects.count() == len(DEFAULT_TIERS)


def test_a_creation_quotes_the_schedule_in_force_read_with_the_seller_s_lock(editor):
    """The schedule is read by the seller's lock statement, not kept anywhere: a change counts
    from the very next creation, and a creation costs no statement of its own for it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import scenarios
    from tests.factories import UserFactory

    seller = UserFactory(email="penjual.tarif@example.co.id")
    before = scenarios.create(seller, buyer_email="a@example.co.id", price=500_000, shipping_cost=0)
    tier = FeeTier.objects.get(min_amount=10_000)
    fees.fee_tier_change(fee_tier=tier, actor=editor, reason="Biaya naik",
                         values={**{f: getattr(tier, f) for f in fees.TIER_FIELDS}, "flat_fee": before.fee_amount + 1_000})
    with CaptureQueriesContext(connection) as captured:
        after = scenarios.create(seller, buyer_email="b@example.co.id", price=500_000, shipping_cost=0)
    assert after.fee_amount == before.fee_amount + 1_000
    if connection.vendor == "postgresql":
        assert not any(q["sql"].startswith('SELECT "transactions_feetier"') for q in captured.captured_queries)
