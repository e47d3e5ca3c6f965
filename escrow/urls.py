"""The escrow flows' own addresses. They keep the paths people and Faspay already use — the
transaction's confirm and refund actions, the payment notification URL registered with Faspay —
and are included before the apps' own patterns, so they take those paths first."""
from django.urls import path

from . import views

app_name = "escrow"
urlpatterns = [
    path("transaksi/<str:reference>/confirm/", views.confirm, name="confirm"),
    path("transaksi/<str:reference>/refund/", views.cancel_and_refund, name="cancel_and_refund"),
    path("pembayaran/faspay/notifikasi/", views.faspay_notification, name="faspay_notification"),
]
