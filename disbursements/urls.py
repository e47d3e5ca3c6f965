from django.urls import path

from . import views

app_name = "disbursements"
urlpatterns = [path("sendme/callback/", views.sendme_callback, name="sendme_callback")]
