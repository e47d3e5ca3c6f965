from django.urls import path

from . import views

app_name = "transactions"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("baru/", views.create, name="create"),
    path("status/", views.dashboard_live_status, name="dashboard_status"),
    path("biaya/", views.quote, name="quote"),
    path("undangan/<str:token>/", views.invitation, name="invitation"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/status/", views.live_status, name="status"),
    path("<str:reference>/<str:action>/", views.act, name="act"),
]
