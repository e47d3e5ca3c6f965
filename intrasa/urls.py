from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from partners import api as partner_api
from partners.views import api_not_found

from . import views

admin.site.site_header = _("INTRASA staff")
admin.site.site_title = _("INTRASA staff")
admin.site.index_title = _("Operations")

# Redis unreachable answers 503 with Retry-After, not 500 (intrasa.views.server_error).
handler500 = "intrasa.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    # The public pages first: Cek Transaksi and its JSON API are the most looked-up paths, and
    # Django tries the patterns in order (resolving them through a dozen includes first cost
    # about a tenth of a cached look-up; benchmarks/README.md). Their paths overlap no other.
    path("", include("pages.urls")),
    path("akun/", include("accounts.urls")),
    # The escrow flows' actions first: they take their paths before the apps' generic patterns.
    path("", include("escrow.urls")),
    path("transaksi/", include("transactions.urls")),
    path("tautan/", include("paylinks.urls")),
    path("termin/", include("milestones.urls")),
    path("pembayaran/", include("payments.urls")),
    path("pencairan/", include("disbursements.urls")),
    path("notifikasi/", include("notifications.urls")),
    path("sengketa/", include("disputes.urls")),
    path("pengembalian-dana/", include("refunds.urls")),
    path("dokumen/", include("documents.urls")),
    path("privasi/", include("privacy.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The partner API (JSON, versioned) and the sellers' consent pages.
    path("api/v1/", partner_api.urls()),
    path("api/v1/<path:rest>", api_not_found),
    path("mitra/", include("partners.urls")),
    # The treasury page and exports (staff only, admin_view) take /admin/treasury/ before the
    # admin's own URLs, so the treasury app's index in the admin is the treasury page.
    path("admin/treasury/", include("treasury.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Emails sent in development (intrasa.outbox), never mounted with DEBUG off.
    urlpatterns += [
        path("dev/outbox/", views.outbox, name="dev_outbox"),
        path("dev/outbox/<str:name>/", views.outbox_message, name="dev_outbox_message"),
        path("dev/outbox/<str:name>/html/", views.outbox_html, name="dev_outbox_html"),
    ]

if settings.FASPAY_SANDBOX_ENABLED:
    # The Faspay stand-in (sandbox/). Production settings refuse to enable it unless asked.
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
