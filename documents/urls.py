from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("<str:reference>/<slug:kind>.pdf", views.download, name="download"),
]
