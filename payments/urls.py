from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("<str:reference>/", views.pay, name="pay"),
    path("<str:reference>/qris.png", views.qris_image, name="qris_image"),
]
