"""CSV exports stream (StreamingHttpResponse over a chunked iterator) and check permissions."""
import csv
import datetime as dt
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from intrasa.wib import now_wib
from tests import scenarios
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def bulk_transactions(seller, count: int):
    """Rows for volume only (no state change is exercised): consistent figures, one INSERT."""
    now = timezone.now()
    EscrowTransaction.objects.bulk_create([
        EscrowTransaction(reference=f"IT{i:012d}", seller=seller, buyer_email=f"b{i}@example.co.id", title=f"Barang {i}",
                          description="-", category="physical", price=100_000, shipping_cost=0, fee_payer="buyer",
                          fee_amount=5_000, buyer_fee=5_000, seller_fee=0, amount_due=105_000, inspection_days=3,
                          shipping_days=2, invitation_expires_at=now + dt.timedelta(days=7),
                          invitation_token=f"token-{i}")
        for i in range(count)], batch_size=500)


def export_url(kind, start, end):
    return f"{reverse('treasury:export')}?kind={kind}&start={start}&end={end}"


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_transactions_export_streams_two_thousand_rows(client, finance, seller):
    bulk_transactions(seller, 2_000)
    client.force_login(finance)
    today = now_wib().date()
    response = client.get(export_url("transactions", today, today))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][0] == "reference" and len(rows) == 2_001
    assert AuditEntry.objects.filter(action="export.transactions", actor=finance).count() == 1


def test_the_rows_are_read_in_chunks_not_all_at_once(client, finance, seller, monkeypatch):
    from treasury import exports

    sizes = []
    original = exports.export_rows

    def spy(export, **kwargs):
        sizes.append(kwargs.get("chunk_size", exports.CHUNK))
        return original(export, **kwargs)

    monkeypatch.setattr("treasury.views.export_rows", spy)
    bulk_transactions(seller, 10)
    client.force_login(finance)
    today = now_wib().date()
    assert len(read_csv(client.get(export_url("transactions", today, today)))) == 11
    assert sizes == [exports.CHUNK]


def test_date_range_is_in_wib_and_inclusive(client, finance, seller):
    bulk_transactions(seller, 3)
    client.force_login(finance)
    yesterday = now_wib().date() - dt.timedelta(days=1)
    assert len(read_csv(client.get(export_url("transactions", yesterday, yesterday)))) == 1  # header only


def test_disbursement_and_ledger_exports(client, finance, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer, title="=HYPERLINK(\"http://x\")"), buyer,
                            Status.CONFIRMED)
    client.force_login(finance)
    today = now_wib().date()
    ledger = read_csv(client.get(export_url("ledger", today, today)))
    assert ledger[0][:3] == ["entry_id", "posted_at_wib", "kind"]
    # verify (3: the escrow bank account, the unique-code discount, the hold) + release (3)
    assert {row[4] for row in ledger[1:]} == {txn.reference} and len(ledger) == 1 + 6
    transactions = read_csv(client.get(export_url("transactions", today, today)))
    assert transactions[1][3].startswith("'=")  # a formula is neutralised for spreadsheets
    disbursements = read_csv(client.get(export_url("disbursements", today, today)))
    assert disbursements[0][0] == "partner_reference_no"


def test_exports_need_permission(client, customer_service, finance):
    today = now_wib().date()
    client.force_login(customer_service)
    assert client.get(export_url("transactions", today, today)).status_code == 403
    # Finance without the ledger permission cannot export the ledger.
    from django.contrib.auth.models import Permission

    finance.groups.first().permissions.remove(Permission.objects.get(codename="view_journalentry"))
    finance = type(finance).objects.get(pk=finance.pk)
    client.force_login(finance)
    assert client.get(export_url("ledger", today, today)).status_code == 403


def test_invalid_range_shows_the_form(client, finance):
    client.force_login(finance)
    response = client.get(export_url("transactions", "2026-02-01", "2026-01-01"))
    assert response.status_code == 200 and not isinstance(response, StreamingHttpResponse)
    assert response.context["form"].errors


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_export_form_downloads_with_its_default_dates(client, finance, seller, language):
    """What a browser submits from the untouched form: the default dates must be values an
    ``<input type="date">`` accepts (ISO), or the browser blanks them and refuses to submit."""
    import re
    from html import unescape

    bulk_transactions(seller, 3)
    client.force_login(finance)
    page = client.get(reverse("treasury:export"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    start = page.index('<form method="get"')
    form = page[start:page.index("</form>", start)]
    values = {}
    for name in ("start", "end"):
        [tag] = re.findall(rf'<input[^>]*name="{name}"[^>]*>', form)
        assert 'type="date"' in tag
        values[name] = unescape(re.search(r'value="([^"]*)"', tag).group(1))
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", values[name]), tag  # what a date picker accepts
    today = now_wib().date()
    assert values == {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    kind = re.search(r'<select[^>]*name="kind"[^>]*>\s*<option value="([^"]+)"', form).group(1)
    response = client.get(reverse("treasury:export"), {"kind": kind, **values}, HTTP_ACCEPT_LANGUAGE=language)
    rows = read_csv(response)
    assert kind == "transactions" and len(rows) == 1 + 3
    assert {row[0] for row in rows[1:]} == {f"IT{i:012d}" for i in range(3)}
