"""Template side of ``refunds.access``: pages ask the same function as the views."""
from django import template

from refunds import access

register = template.Library()


@register.simple_tag(takes_context=True)
def visible_ledger_lines(context, escrow_transaction, postings):
    """``{% visible_ledger_lines txn postings as lines %}``: the lines the reader may see."""
    return access.visible_postings(context["request"].user, escrow_transaction=escrow_transaction,
                                   postings=postings)
