from django import template

from documents.selectors import documents_for

register = template.Library()


@register.inclusion_tag("documents/_card.html", takes_context=True)
def documents_card(context, escrow_transaction, postings):
    """The "Documents" card of the transaction page. ``postings`` are the page's ledger lines
    (already loaded for its ledger table), so the card costs no query."""
    user = context["request"].user
    return {"txn": escrow_transaction,
            "documents": documents_for(user=user, escrow_transaction=escrow_transaction, postings=postings)}
