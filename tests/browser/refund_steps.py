"""Steps the refund journeys share (tests/browser/test_refund_journeys.py, test_return_journeys.py):
signing a person in on a phone, the buyer adding a refund account on the refund page and being paid by
the SendMe sandbox, and reading what the buyer's page and refund receipt PDF say about that transfer."""
import io
import re

from django.core.management import call_command
from pypdf import PdfReader

from refunds import tasks as refund_tasks
from refunds.models import RefundRequest
from tests.browser.conftest import PHONE, assert_fits_the_screen
from tests.browser.test_journeys import login_cookie

REFUND_RECEIPT = "/dokumen/{reference}/kuitansi-pengembalian.pdf"


def signed_in(people, user, name, viewport=PHONE):
    """A browser for ``user``, signed in (staff: past the second factor), on a phone unless told."""
    person = people(name, "id", viewport=viewport)
    person.context.add_cookies(login_cookie(user, person))
    return person


def buyer_opens_dispute(person, txn, reason, description, *, fields=None, evidence=None):
    """On the transaction page the buyer reports a problem (the secondary action behind its button):
    the reason, the chronology, any other ``fields`` (selector → text) and an ``evidence`` file."""
    form = "[data-testid=dispute-open-form]"
    person.page.goto(f"/transaksi/{txn.reference}/")
    person.page.click("[data-testid=dispute-toggle] summary")
    person.page.select_option(f"{form} select[name=reason]", reason)
    person.page.fill(f"{form} textarea[name=description]", description)
    for selector, value in (fields or {}).items():
        person.page.fill(f"{form} {selector}", value)
    if evidence is not None:
        person.page.set_input_files(f"{form} input[type=file]", str(evidence))
    assert_fits_the_screen(person)
    person.shot(f"dispute-{reason}")
    person.page.click(f"{form} button[type=submit]")


def pdf_text(body: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages))


def rupiah(amount: int) -> str:
    """An amount as the pages write it, with an ordinary space (read texts with ``text_of``)."""
    return f"Rp {amount:,}".replace(",", ".")


def text_of(person, selector: str) -> str:
    """The text of ``selector`` with the no-break space after "Rp" made ordinary."""
    return person.page.inner_text(selector).replace("\xa0", " ")


def transaction_status(person, txn) -> str:
    person.page.goto(f"/transaksi/{txn.reference}/")
    return person.page.inner_text("[data-testid=status]").strip()


def sandbox_transfers_to(sendme, account: str) -> list[int]:
    """The amounts the SendMe sandbox received for ``account`` (a bank account or e-wallet number)."""
    return [t["amount"] for t in sendme.state()["transfers"] if t["account"] == account]


def day_of(request, language: str = "id") -> str:
    """The WIB date the refund's transfer arrived, as the buyer's page and the receipt write it."""
    from django.utils import formats, translation

    from disbursements.models import Disbursement
    from intrasa.wib import to_wib

    arrived = Disbursement.objects.filter(payout=request.payout, status=Disbursement.Status.SUCCEEDED).get().completed_at
    with translation.override(language):
        return formats.date_format(to_wib(arrived), "j F Y")


def buyer_adds_account_and_is_paid(person, sendme, txn, request, number):
    """On the refund page the buyer adds a bank account in their own name; SendMe pays it."""
    person.page.goto(f"/pengembalian-dana/{txn.reference}/")
    person.page.wait_for_selector("[data-testid=next-step]")
    person.page.select_option("select[name=bank-bank_code]", "014")
    person.page.fill("input[name=bank-account_number]", number)
    person.page.fill("input[name=bank-account_holder_name]", "Budi Pembeli")
    person.shot("refund-account-form")
    person.page.click("form:has(input[name=kind][value=bank]) button[type=submit]")
    person.page.wait_for_selector("[data-testid=refund-transfers]")
    return buyer_sees_the_refund_arrived(person, sendme, txn, request, number)


def buyer_sees_the_refund_arrived(person, sendme, txn, request, account):
    """The transfer reached ``account``: the request closes, the sandbox received exactly its amount,
    and the refund page and receipt PDF show the amount, the day and the account; the books balance."""
    refund_tasks.complete_paid_refunds()
    person.page.goto(f"/pengembalian-dana/{txn.reference}/")
    person.shot("refunded")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.COMPLETED
    assert sandbox_transfers_to(sendme, account) == [request.amount]  # exactly the refund, once
    text = text_of(person, "[data-testid=refund-transfers]")  # Rp keeps its digits (no-break space)
    day = day_of(request, person.language)
    assert rupiah(request.amount) in text and account[-4:] in text and day in text
    receipt = person.page.request.get(REFUND_RECEIPT.format(reference=txn.reference))
    pdf = pdf_text(receipt.body())
    assert receipt.status == 200 and rupiah(request.amount) in pdf and account[-4:] in pdf and day in pdf
    call_command("ledger_check")
    return pdf


def finance_member():
    """Finance's Fani: the named person who holds the refunds' staff tasks (refunds.services)."""
    from tests.disputes.conftest import _staff_in

    return _staff_in("Finance", "fani@intrasa.co.id", "Fani Keuangan")


def finance_approves_in_the_admin(staff, request, reason):
    """Finance see the amount and account the approval would send, and confirm it with a reason."""
    staff.page.goto("/admin/refunds/refundrequest/")
    staff.page.check(f"input[name=_selected_action][value='{request.pk}']")
    staff.page.select_option("select[name=action]", "approve")
    staff.page.click("button[name=index]")
    assert text_of(staff, "[data-testid=transfer-amount]") == rupiah(request.amount)
    staff.page.fill("textarea[name=reason]", reason)
    staff.shot("approve")
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url("**/admin/refunds/refundrequest/")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.PAYING
