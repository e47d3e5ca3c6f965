from django.urls import path

from . import views

app_name = "pages"
urlpatterns = [
    path("cek-transaksi/", views.check_transaction, name="check_transaction"),
    path("api/cek-transaksi/<str:reference>/", views.check_transaction_api, name="check_transaction_api"),
    path("cek-pembayaran/", views.check_payment, name="check_payment"),
    path("biaya-layanan/", views.fees, name="fees"),
    path("kebijakan-pengembalian-dana/", views.refund_policy, name="refund_policy"),
    path("faq/", views.faq, name="faq"),
]
