"""Mounted at ``/sandbox/`` by intrasa/urls.py when ``FASPAY_SANDBOX_ENABLED``.

``FASPAY_DEBIT_BASE_URL`` defaults to ``…/sandbox/debit`` and ``SENDME_BASE_URL`` to
``…/sandbox/sendme``; the SNAP path that is signed is the part after the base URL
(``/account/v1.0/<operation>``).
"""
from django.urls import path, re_path
from django.views.generic import RedirectView

from . import views

app_name = "sandbox"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="sandbox:control"), name="index"),
    path("control/", views.control_page, name="control"),
    path("control/api", views.control_api, name="control_api"),
    path("keys/faspay-sandbox-public.pem", views.faspay_public_key, name="public_key"),
    path("debit/cvr/300011/10", views.debit_post_data, name="debit_post_data"),
    path("debit/cvr/100004/10", views.debit_inquiry, name="debit_inquiry"),
    path("debit/cvr/100005/10", views.debit_cancel, name="debit_cancel"),
    path("debit/pay/<str:trx_id>/", views.payment_page, name="payment_page"),
    path("tracking/v1/track", views.tracking_track, name="tracking_track"),
    re_path(r"^sendme/account/v1\.0/(?P<operation>[a-z\-]+(?:/[a-z\-]+)?)$", views.sendme_endpoint,
            name="sendme"),
]
