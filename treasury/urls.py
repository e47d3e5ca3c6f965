"""Mounted at ``/admin/treasury/`` before the admin site's own URLs (intrasa/urls.py): the
treasury page is the treasury app's index in the admin."""
from django.contrib import admin
from django.urls import path

from . import views

app_name = "treasury"

urlpatterns = [
    path("", admin.site.admin_view(views.treasury_page), name="dashboard"),
    path("export/", admin.site.admin_view(views.export_page), name="export"),
]
