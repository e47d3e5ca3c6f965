from django.urls import path

from . import views

app_name = "milestones"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("baru/", views.plan_create, name="create"),
    path("<str:token>/", views.plan_detail, name="detail"),
    path("<str:token>/pdf/", views.plan_pdf, name="pdf"),
    path("<str:token>/buka/<int:position>/", views.plan_open, name="open"),
    path("<str:token>/<str:action>/", views.plan_act, name="act"),
]
