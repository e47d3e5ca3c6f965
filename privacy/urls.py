"""Personal data pages under /privasi/. Slugs are Indonesian, the site's main language."""
from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.notice, name="notice"),
    path("data-saya/", views.my_data, name="my_data"),
    path("data-saya/arsip/", views.export_create, name="export_create"),
    path("data-saya/arsip/<int:pk>/unduh/", views.export_download, name="export_download"),
    path("data-saya/email/", views.email_change, name="email_change"),
    path("data-saya/persetujuan/", views.consents_update, name="consents"),
    path("email/<str:token>/", views.email_confirm, name="email_confirm"),
    path("hapus-akun/", views.erase, name="erase"),
    path("akses-staf/<str:kind>/<int:pk>/", views.staff_access, name="staff_access"),
]
