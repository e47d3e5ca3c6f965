from django.urls import path

from . import views

app_name = "paylinks"
urlpatterns = [
    path("", views.link_list, name="list"),
    path("baru/", views.link_create, name="create"),
    path("<str:token>/", views.public, name="public"),
    path("<str:token>/kelola/", views.manage, name="manage"),
    path("<str:token>/kelola/<str:action>/", views.act, name="act"),
    path("<str:token>/qr.png", views.qr_png_download, name="qr_png"),
]
