"""The seller's pages of the partner API under /mitra/ (Indonesian slugs, English names)."""
from django.urls import path

from . import views

app_name = "partners"
urlpatterns = [
    path("otorisasi/", views.authorize, name="authorize"),
    path("tautan/", views.links, name="links"),
    path("tautan/<int:link_id>/cabut/", views.link_revoke, name="link_revoke"),
]
