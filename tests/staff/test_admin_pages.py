"""Every staff page loads for every role, at a number of queries that does not grow with rows."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disbursements.models import Disbursement, Payout
from ledger.models import JournalEntry
from payments.models import Bill
from transactions.models import EscrowTransaction, Status
from treasury.selectors import sla_counts

from .builders import populate

pytestmark = pytest.mark.django_db

MAX_QUERIES = 30


def count_queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), response


def pages(role_user):
    """The admin pages this role may see, including one detail page of each kind."""
    urls = [reverse("admin:index"), reverse("admin:transactions_escrowtransaction_changelist"),
            reverse("admin:transactions_escrowtransaction_changelist") + "?sla=shipping_overdue",
            reverse("admin:transactions_escrowtransaction_changelist") + "?method=va",
            reverse("admin:transactions_escrowtransaction_change",
                    args=[EscrowTransaction.objects.filter(status=Status.CONFIRMED).order_by("pk").first().pk]),
            reverse("admin:disbursements_payout_changelist") + "?due=overdue",
            reverse("admin:disbursements_disbursement_changelist"),
            reverse("admin:audit_auditentry_changelist") + "?q=refund"]
    if Bill.objects.exists():
        urls.append(reverse("admin:payments_bill_changelist"))
    if role_user.has_perm("ledger.view_journalentry"):
        urls += [reverse("admin:ledger_journalentry_changelist"),
                 reverse("admin:ledger_journalentry_change", args=[JournalEntry.objects.order_by("pk").first().pk])]
    if role_user.has_perm("treasury.view_treasury"):
        urls += [reverse("treasury:dashboard"), reverse("admin:treasury_reconciliationitem_changelist"),
                 reverse("admin:treasury_withdrawalinstruction_changelist"),
                 reverse("admin:treasury_withdrawalinstruction_add"), reverse("treasury:export")]
    return urls


def add_disbursements():
    for payout in Payout.objects.filter(parts__isnull=True):
        Disbursement.objects.create(payout=payout, sequence=1, kind="bank", amount=payout.amount,
                                    partner_reference_no=f"TEST-{payout.pk}", description="x")


def test_pages_cost_the_same_number_of_queries_with_more_rows(client, role_user, settings):
    settings.SENDME_BASE_URL = "http://127.0.0.1:9/unreachable"  # the treasury page must still load
    client.force_login(role_user)
    populate(1)
    add_disbursements()
    for url in pages(role_user):
        client.get(url)  # warm per-process caches (content types, calendar) before counting
    small = {url: count_queries(client, url)[0] for url in pages(role_user)}
    populate(4)
    add_disbursements()
    large = {url: count_queries(client, url)[0] for url in pages(role_user)}
    assert small == large
    assert max(large.values()) <= MAX_QUERIES, large


def test_pages_stay_under_the_query_budget(client, finance, settings, django_assert_max_num_queries):
    settings.SENDME_BASE_URL = "http://127.0.0.1:9/unreachable"
    client.force_login(finance)
    populate(3)
    for url in pages(finance):
        with django_assert_max_num_queries(MAX_QUERIES):
            assert client.get(url).status_code == 200


def test_sla_dashboard_counts_and_links(client, officer):
    populate(2)
    client.force_login(officer)
    page = client.get(reverse("admin:index")).content.decode()
    panel = page.split('data-testid="sla-dashboard"')[1].split("</table>")[0]
    changelist = reverse("admin:transactions_escrowtransaction_changelist")
    queues = [("sla=awaiting_verification", 2), ("sla=shipping_overdue", 2), ("sla=confirmations_due", 2)]
    if sla_counts()["disputes"]["source"] == "transactions":  # before the disputes app has its model
        queues.append(("sla=disputed_lt3", 2))
    for query, count in queues:
        assert f'<a href="{changelist}?{query}">{count}</a>' in panel, query
    assert f'{reverse("admin:disbursements_payout_changelist")}?due=overdue">2</a>' in panel
    # The links lead to lists with exactly those rows.
    response = client.get(f"{changelist}?sla=shipping_overdue")
    assert response.context["cl"].result_count == 2


def test_roles_without_a_permission_get_no_link_and_no_page(client, customer_service):
    client.force_login(customer_service)
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("treasury:dashboard") not in page
    assert client.get(reverse("treasury:dashboard")).status_code == 403
    assert client.get(reverse("treasury:export")).status_code == 403
    assert client.get(reverse("admin:ledger_journalentry_changelist")).status_code == 403


def test_money_and_state_are_not_editable(client, finance):
    populate(1)
    client.force_login(finance)
    txn = EscrowTransaction.objects.first()
    url = reverse("admin:transactions_escrowtransaction_change", args=[txn.pk])
    assert client.post(url, {"status": "disbursed", "price": 1}).status_code == 403
    bill_url = reverse("admin:payments_bill_changelist")
    assert client.get(bill_url).status_code == 200
    part = Payout.objects.first()
    assert client.post(reverse("admin:disbursements_payout_change", args=[part.pk]), {"amount": 1}).status_code == 403
    entry = JournalEntry.objects.first()
    assert client.post(reverse("admin:ledger_journalentry_change", args=[entry.pk]), {}).status_code == 403


def test_detail_pages_link_to_each_other(client, finance):
    populate(1)
    add_disbursements()
    client.force_login(finance)
    part = Disbursement.objects.select_related("payout__escrow_transaction").first()
    txn = part.payout.escrow_transaction
    page = client.get(reverse("admin:disbursements_disbursement_change", args=[part.pk])).content.decode()
    assert reverse("admin:disbursements_payout_change", args=[part.payout_id]) in page
    assert reverse("admin:transactions_escrowtransaction_change", args=[txn.pk]) in page
    entry = JournalEntry.objects.filter(escrow_transaction=txn).first()
    page = client.get(reverse("admin:ledger_journalentry_change", args=[entry.pk])).content.decode()
    assert reverse("admin:transactions_escrowtransaction_change", args=[txn.pk]) in page
    page = client.get(reverse("admin:transactions_escrowtransaction_change", args=[txn.pk])).content.decode()
    assert part.partner_reference_no in page and entry.get_kind_display() in page
