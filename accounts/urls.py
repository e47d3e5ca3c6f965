"""Account pages under /akun/. Slugs are Indonesian, the site's main language; names are English."""
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("masuk/", views.LoginView.as_view(), name="login"),
    path("keluar/", views.LogoutView.as_view(), name="logout"),
    path("daftar/", views.signup, name="signup"),
    path("lupa-sandi/", views.PasswordResetView.as_view(), name="password_reset"),
    path("lupa-sandi/terkirim/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("reset/selesai/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("ubah-sandi/", views.PasswordChangeView.as_view(), name="password_change"),
    path("ubah-sandi/selesai/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Before the token route, which would otherwise swallow "kirim-ulang".
    path("verifikasi/kirim-ulang/", views.email_verification_resend, name="email_verification_resend"),
    path("verifikasi/<str:token>/", views.verify_email, name="verify_email"),
    path("bahasa/", views.set_language, name="set_language"),
    path("staf/verifikasi/", views.staff_second_factor, name="staff_second_factor"),
    path("staf/autentikator/", views.staff_authenticator, name="staff_authenticator"),
    path("profil/", views.profile, name="profile"),
    path("profil/tujuan-pencairan/bank/", views.destination_add_bank, name="destination_add_bank"),
    path("profil/tujuan-pencairan/status/", views.destinations_status, name="destinations_status"),
    path("profil/tujuan-pencairan/e-wallet/", views.destination_add_ewallet,
         name="destination_add_ewallet"),
    path("profil/tujuan-pencairan/<int:pk>/jadikan-utama/", views.destination_set_default,
         name="destination_set_default"),
    path("profil/tujuan-pencairan/<int:pk>/arsipkan/", views.destination_archive,
         name="destination_archive"),
]
