from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("faspay/notifikasi/", views.faspay_notification, name="faspay_notification"),
    path("<str:reference>/", views.pay, name="pay"),
]
