from django.urls import path

from . import views

app_name = "refunds"
urlpatterns = [
    path("permintaan/<int:pk>/dokumen/", views.add_document, name="add_document"),
    path("permintaan/<int:pk>/rekening/", views.choose_destination, name="destination"),
    path("permintaan/<int:pk>/inspeksi/", views.record_inspection, name="record_inspection"),
    path("permintaan/<int:pk>/alamat-retur/", views.return_address, name="return_address"),
    path("permintaan/<int:pk>/kirim-balik/", views.return_ship, name="return_ship"),
    path("permintaan/<int:pk>/barang-kembali/", views.return_arrived, name="return_arrived"),
    path("permintaan/<int:pk>/alamat-pembeli/", views.resend_address, name="resend_address"),
    path("permintaan/<int:pk>/kirim-ke-pembeli/", views.resend, name="resend"),
    path("permintaan/<int:pk>/barang-diterima/", views.resend_received, name="resend_received"),
    path("permintaan/<int:pk>/rekening-baru/", views.add_account, name="add_account"),
    path("dokumen/<int:pk>/", views.document, name="document"),
    path("<str:reference>/", views.detail, name="detail"),
]
