"""The privacy page states the periods and the rights in Bahasa Indonesia and English, generated
from the retention table (so page and retention job cannot disagree)."""
import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from intrasa.wib import WIB
from privacy import retention

pytestmark = pytest.mark.django_db
URL = reverse("privacy:notice")


def page_in(language: str) -> str:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_lists_every_rule_with_its_period_in_both_languages():
    for language in ("id", "en"):
        page = page_in(language)
        with translation.override(language):
            for rule in retention.RULES:
                assert f'data-rule="{rule.key}"' in page
                assert escape(str(rule.describe_period())) in page, (language, rule.key)
                assert escape(str(rule.record)) in page
    assert "10 years after the end of the year in which the transaction is closed" in page_in("en")
    assert "10 tahun setelah akhir tahun saat transaksi ditutup" in page_in("id")
    assert "5 tahun setelah sengketa diselesaikan" in page_in("id")


def test_the_page_states_the_rights_and_that_service_emails_need_no_consent():
    english = page_in("en")
    for text in ("To get a copy of everything we hold about you", "To correct your name",
                 "To have your account erased", "To withdraw a consent at any time",
                 "They are not based on consent", "within 3×24 hours", settings.PRIVACY_OFFICER_EMAIL):
        assert text in english, text
    indonesian = page_in("id")
    for text in ("Hak Anda", "tidak didasarkan pada persetujuan", "3×24 jam", "UU No. 27 Tahun 2022"):
        assert text in indonesian, text


def test_every_page_links_to_it_from_the_footer(client):
    assert f'href="{URL}"' in client.get(reverse("home")).content.decode()


def test_the_legal_bases_are_cited_for_every_rule():
    for rule in retention.RULES:
        assert "Pasal" in rule.legal_basis, rule.key


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2040, 12, 31)),
       st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2060, 12, 31)),
       st.sampled_from([retention.Period(years=10, from_year_end=True), retention.Period(years=5),
                        retention.Period(years=1), retention.Period(days=7), retention.Period(days=3)]))
def test_a_record_is_due_exactly_when_its_period_has_ended(anchor, now, period):
    anchor, now = anchor.replace(tzinfo=WIB), now.replace(tzinfo=WIB)
    assert period.is_over(anchor, now) == (period.until(anchor) <= now)


def test_financial_records_count_from_the_end_of_the_year():
    closed = dt.datetime(2026, 6, 10, 14, 0, tzinfo=WIB)
    assert retention.TRANSACTION_RECORDS.until(closed) == dt.datetime(2037, 1, 1, tzinfo=WIB)
    assert not retention.TRANSACTION_RECORDS.period.is_over(closed, dt.datetime(2036, 12, 31, 23, 59, tzinfo=WIB))
    assert retention.TRANSACTION_RECORDS.period.is_over(closed, dt.datetime(2037, 1, 1, tzinfo=WIB))
