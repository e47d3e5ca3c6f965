from django.urls import path

from . import views

app_name = "milestones"
urlpatterns = [
    path("baru/", views.plan_create, name="create"),
    path("<str:token>/", views.plan_detail, name="detail"),
    path("<str:token>/<str:action>/", views.plan_act, name="act"),
]
