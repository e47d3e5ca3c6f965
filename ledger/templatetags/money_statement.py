"""``{{ postings|money_statement }}``: the plain money statement (``ledger.selectors.money_statement``)
of the ledger lines a page may show its reader. Pages pass the lines already filtered for the reader
(refunds' ``visible_ledger_lines``), so the statement never counts money the reader may not see
(a seller does not see the buyer's own second payment)."""
from django import template

from ..selectors import money_statement as statement_of

register = template.Library()


@register.filter(name="money_statement")
def money_statement(postings):
    return statement_of(postings)
