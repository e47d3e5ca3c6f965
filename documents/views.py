"""Downloading a transaction's PDF documents. Who may: ``refunds.access`` (through the selectors);
rendering, caching and the per-user limit: ``documents.rendering``."""
from csp.decorators import csp_exempt
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from intrasa.http import never_cache
from intrasa.qr import qr_svg
from intrasa.ratelimit import minutes_to_wait

from .rendering import RenderLimitReached, cached_pdf
from .selectors import document_context, document_transaction_get


# The PDFs are WeasyPrint's output from escaped templates (no script, no active content), read in
# the browser's PDF viewer: the page CSP is for HTML and only gets in the viewer's way.
@csp_exempt()
@never_cache
@login_required
@require_GET
def download(request, reference, kind):
    kind, txn, postings = document_transaction_get(user=request.user, reference=reference, slug=kind)
    context = document_context(kind=kind, escrow_transaction=txn, postings=postings)
    context["qr"] = qr_svg(context["check_url"], size_mm=28)
    # Staff read the double-entry lines; the parties a plain money statement (documents/base.html).
    context["staff_view"] = request.user.is_staff
    try:
        pdf = cached_pdf(kind.template, context, language=request.user.preferred_language, user=request.user)
    except RenderLimitReached as exc:
        response = render(request, "documents/too_many.html",
                          {"txn": txn, "minutes": minutes_to_wait(exc.retry_after)}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="INTRASA-{kind.slug}-{txn.reference}.pdf"'
    return response
