"""Downloading a transaction's PDF documents. Access rules live in ``documents.selectors``."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from intrasa.qr import qr_svg

from .rendering import render_pdf
from .selectors import document_context, document_transaction_get


@never_cache
@login_required
@require_GET
def download(request, reference, kind):
    kind, txn, postings = document_transaction_get(user=request.user, reference=reference, slug=kind)
    context = document_context(kind=kind, escrow_transaction=txn, postings=postings)
    context["qr"] = qr_svg(context["check_url"], size_mm=28)
    pdf = render_pdf(kind.template, context, language=request.user.preferred_language)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="INTRASA-{kind.slug}-{txn.reference}.pdf"'
    return response
