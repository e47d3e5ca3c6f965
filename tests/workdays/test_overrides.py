"""Staff overrides of the working-day calendar go through ``workdays.services``: a reason, an audit
row, and the cached calendar forgotten once the change is committed."""
import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEntry
from tests.factories import StaffFactory
from workdays import services
from workdays.calendar import working_calendar
from workdays.models import CalendarOverride

pytestmark = pytest.mark.django_db

THURSDAY = dt.date(2026, 6, 11)  # an ordinary working day
INDEPENDENCE_DAY = dt.date(2026, 8, 17)  # a public holiday in the holidays package


@pytest.fixture
def planner(db):
    user = StaffFactory(email="kalender@intrasa.co.id", full_name="Kiki Kalender")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="workdays"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def root(db):
    return StaffFactory(email="root@intrasa.co.id", full_name="Rina Admin", is_superuser=True)


def test_adding_a_day_off_is_audited_with_its_reason_and_counts_at_once(planner):
    assert working_calendar().is_working_day(THURSDAY)  # cached now
    override = services.calendar_override_save(actor=planner, reason="SKB 3 Menteri terbaru", date=THURSDAY,
                                               kind="cuti_bersama", name="Cuti bersama tambahan")
    assert override.created_by == planner
    audit = AuditEntry.objects.get(action="calendar_override.add")
    assert audit.actor == planner and audit.reason == "SKB 3 Menteri terbaru"
    assert audit.data == {"after": {"date": "2026-06-11", "kind": "cuti_bersama", "name": "Cuti bersama tambahan"}}
    assert not working_calendar().is_working_day(THURSDAY)


def test_the_cache_is_forgotten_after_commit_not_before(planner, django_capture_on_commit_callbacks):
    """Forgetting only inside the transaction would let another process cache the old calendar
    again until commit, for an hour; the service forgets once more when the change is visible."""
    from django.core.cache import cache

    from workdays.calendar import OVERRIDES_CACHE_KEY

    with django_capture_on_commit_callbacks() as callbacks:
        services.calendar_override_save(actor=planner, reason="Libur nasional baru", date=THURSDAY,
                                        kind="holiday", name="Hari libur baru")
        cache.set(OVERRIDES_CACHE_KEY, {})  # another process read the calendar before the commit
    assert working_calendar().is_working_day(THURSDAY)  # stale until the commit…
    for callback in callbacks:
        callback()
    assert not working_calendar().is_working_day(THURSDAY)  # …and not after it


def test_a_row_saved_outside_the_services_is_also_forgotten_after_commit(django_capture_on_commit_callbacks):
    """A shell or a data migration saving the model directly: the signal forgets now and on commit."""
    from django.core.cache import cache

    from workdays.calendar import OVERRIDES_CACHE_KEY

    with django_capture_on_commit_callbacks() as callbacks:
        CalendarOverride.objects.create(date=THURSDAY, kind="holiday", name="Hari libur baru")
        cache.set(OVERRIDES_CACHE_KEY, {})  # another process read the calendar before the commit
    for callback in callbacks:
        callback()
    assert not working_calendar().is_working_day(THURSDAY)


def test_change_records_before_and_after(planner):
    override = services.calendar_override_save(actor=planner, reason="Libur", date=THURSDAY, kind="holiday",
                                               name="Libur")
    services.calendar_override_save(actor=planner, reason="Ternyata cuti bersama", override=override,
                                    date=THURSDAY, kind="cuti_bersama", name="Cuti bersama")
    audit = AuditEntry.objects.get(action="calendar_override.change")
    assert audit.data["before"]["kind"] == "holiday" and audit.data["after"]["kind"] == "cuti_bersama"
    assert working_calendar().holiday_name(THURSDAY) == "Cuti bersama"


def test_cancelling_a_holiday_and_deleting_the_override(planner):
    override = services.calendar_override_save(actor=planner, reason="Libur dipindah", date=INDEPENDENCE_DAY,
                                               kind="working_day", name="Dipindah ke Senin")
    assert working_calendar().is_working_day(INDEPENDENCE_DAY)
    services.calendar_override_delete(override=override, actor=planner, reason="Keputusan dibatalkan")
    assert not CalendarOverride.objects.exists()
    audit = AuditEntry.objects.get(action="calendar_override.delete")
    assert audit.reason == "Keputusan dibatalkan" and audit.data["before"]["kind"] == "working_day"
    assert not working_calendar().is_working_day(INDEPENDENCE_DAY)


@pytest.mark.parametrize("change,code", [
    ({"reason": " "}, "reason_required"),
    ({"name": ""}, "name_required"),
    ({"kind": "weekend"}, "invalid_kind"),
])
def test_refusals_change_nothing(planner, change, code):
    with pytest.raises(services.CalendarOverrideError) as refused:
        services.calendar_override_save(**{"actor": planner, "reason": "Libur", "date": THURSDAY, "kind": "holiday",
                                           "name": "Libur", **change})
    assert refused.value.code == code
    assert not CalendarOverride.objects.exists() and not AuditEntry.objects.exists()


def test_one_override_per_date(planner):
    services.calendar_override_save(actor=planner, reason="Libur", date=THURSDAY, kind="holiday", name="Libur")
    with transaction.atomic(), pytest.raises(services.CalendarOverrideError) as refused:
        services.calendar_override_save(actor=planner, reason="Lagi", date=THURSDAY, kind="cuti_bersama", name="Cuti")
    assert refused.value.code == "date_taken"
    assert CalendarOverride.objects.get().kind == "holiday"


def test_staff_without_the_permission_are_refused(db):
    reader = StaffFactory(email="baca@intrasa.co.id")
    with pytest.raises(services.CalendarOverrideError) as refused:
        services.calendar_override_save(actor=reader, reason="Libur", date=THURSDAY, kind="holiday", name="Libur")
    assert refused.value.code == "forbidden" and not CalendarOverride.objects.exists()


# --- the admin calls them -------------------------------------------------------------------

def test_admin_add_goes_through_the_service_and_requires_a_reason(client, root):
    client.force_login(root)
    url = reverse("admin:workdays_calendaroverride_add")
    data = {"date": "2026-06-11", "kind": "cuti_bersama", "name": "Cuti bersama tambahan"}
    response = client.post(url, data)
    assert response.status_code == 200 and "reason" in response.context["adminform"].form.errors
    assert not CalendarOverride.objects.exists()
    response = client.post(url, {**data, "reason": "SKB 3 Menteri terbaru"})
    assert response.status_code == 302
    override = CalendarOverride.objects.get()
    assert override.created_by == root
    assert AuditEntry.objects.get(action="calendar_override.add").reason == "SKB 3 Menteri terbaru"


def test_admin_says_a_date_is_taken_on_the_form(client, root, in_english):
    CalendarOverride.objects.create(date=THURSDAY, kind="holiday", name="Libur")
    client.force_login(root)
    response = client.post(reverse("admin:workdays_calendaroverride_add"),
                           {"date": "2026-06-11", "kind": "cuti_bersama", "name": "Cuti", "reason": "Tambahan"})
    assert response.status_code == 200
    assert "already has an override" in response.context["adminform"].form.non_field_errors()[0]
    assert CalendarOverride.objects.count() == 1


def test_admin_delete_asks_for_a_reason(client, root):
    override = CalendarOverride.objects.create(date=THURSDAY, kind="holiday", name="Libur")
    url = reverse("admin:workdays_calendaroverride_delete", args=[override.pk])
    client.force_login(root)
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 200 and CalendarOverride.objects.exists()
    response = client.post(url, {"reason": "Salah tanggal"})
    assert response.status_code == 302 and not CalendarOverride.objects.exists()
    assert AuditEntry.objects.get(action="calendar_override.delete").actor == root
