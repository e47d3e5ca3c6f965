"""A ledger breach at night is emailed to the members of the Finance group."""
import pytest
from django.core import mail

from ledger import tasks
from ledger.checks import Breach
from tests.factories import StaffFactory

from .conftest import role_group

pytestmark = pytest.mark.django_db


def test_breach_mails_finance(monkeypatch, finance, customer_service):
    other = StaffFactory(email="finance2@intrasa.co.id")
    other.groups.add(role_group("Finance"))
    monkeypatch.setattr(tasks, "ledger_breaches", lambda: [Breach("balanced-entries", "entry #1", "net 5")])
    assert tasks.nightly_ledger_check() == 1
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["finance2@intrasa.co.id", "finance@intrasa.co.id"]
    assert "entry #1" in mail.outbox[0].body


def test_no_breach_no_mail(monkeypatch, finance):
    monkeypatch.setattr(tasks, "ledger_breaches", lambda: [])
    assert tasks.nightly_ledger_check() == 0
    assert mail.outbox == []


def test_without_finance_members_admins_are_told(monkeypatch, settings):
    settings.ADMINS = [("Ops", "ops@intrasa.co.id")]
    monkeypatch.setattr(tasks, "ledger_breaches", lambda: [Breach("r", "s", "d")])
    tasks.nightly_ledger_check()
    assert mail.outbox[0].to == ["ops@intrasa.co.id"]


def test_finance_group_gets_the_treasury_permissions_after_migrate():
    from django.contrib.auth.models import Group

    from treasury.apps import FINANCE_PERMISSIONS, grant_finance_permissions

    group, _ = Group.objects.get_or_create(name="Finance")
    grant_finance_permissions(sender=None)
    granted = {f"{app}.{codename}" for app, codename in
               group.permissions.values_list("content_type__app_label", "codename")}
    assert set(FINANCE_PERMISSIONS) <= granted
