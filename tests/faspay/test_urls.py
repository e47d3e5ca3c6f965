"""Endpoints live in one place; INTRASA's own callback URLs match the routes Django serves."""
import pytest
from django.urls import reverse

from faspay import urls


def test_intrasa_urls_that_faspay_calls_are_the_served_routes():
    assert reverse("escrow:faspay_notification") == urls.DEBIT_NOTIFICATION_PATH
    assert reverse("disbursements:sendme_callback") == urls.SENDME_CALLBACK_PATH


def test_join_and_the_full_callback_urls():
    assert urls.join("https://sendme.faspay.co.id/", urls.SENDME_TRANSFER_INTERBANK) == \
        "https://sendme.faspay.co.id/account/v1.0/transfer-interbank"
    assert urls.sendme_callback_url("https://intrasa.co.id") == "https://intrasa.co.id/pencairan/sendme/callback/"
    with pytest.raises(ValueError):
        urls.join("https://x", "account/v1.0/transfer-interbank")


def test_base_urls_come_from_settings(settings):
    settings.FASPAY_DEBIT_BASE_URL = "https://web.faspay.co.id"
    settings.SENDME_BASE_URL = "https://sendme.faspay.co.id"
    assert (urls.debit_base_url(), urls.sendme_base_url()) == ("https://web.faspay.co.id", "https://sendme.faspay.co.id")


@pytest.mark.parametrize(("base", "site", "own"), [
    ("http://127.0.0.1:8000/sandbox/debit", "http://127.0.0.1:8000", True),
    ("http://127.0.0.1:8000/sandbox/debit/", "http://127.0.0.1:8000", True),
    ("https://web.faspay.co.id", "http://127.0.0.1:8000", False),
    ("http://evil.example/sandbox/debit", "http://127.0.0.1:8000", False),
])
def test_only_this_sites_sandbox_is_its_own(base, site, own):
    assert urls.is_own_sandbox(base, site) is own
