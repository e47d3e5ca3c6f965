from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

app_name = "accounts"
urlpatterns = [
    path("masuk/", auth_views.LoginView.as_view(), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("daftar/", auth_views.LoginView.as_view(), name="signup"),
    path("profil/", auth_views.LoginView.as_view(), name="profile"),
]
