from django.urls import path

from . import views

app_name = "disputes"
urlpatterns = [
    path("bukti/<int:pk>/", views.evidence, name="evidence"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/buka/", views.open_dispute, name="open"),
    path("<str:reference>/pesan/", views.post_message, name="message"),
    path("<str:reference>/tawaran/", views.propose, name="propose"),
    path("<str:reference>/terima-retur/", views.accept_return, name="accept_return"),
    path("<str:reference>/setujui-kurang-kirim/", views.accept_short_shipment, name="accept_short_shipment"),
    path("<str:reference>/tawaran/<int:pk>/<str:action>/", views.answer, name="answer"),
]
