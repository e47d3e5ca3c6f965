"""Stored in-app notifications are shown in the reader's language (issue 17): a notification keeps
the message's kind and parameters, and the list says it again in the language the reader has now,
deadlines included; rows from before keep showing the text they were stored with."""
import re

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.services import user_update_profile
from notifications.models import Notification
from notifications.tasks import send_notification_email
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db


def _switch(user, language):
    return user_update_profile(user=user, full_name=user.full_name, phone=user.phone, preferred_language=language)


def test_a_notification_written_in_indonesian_reads_in_english(client, seller, buyer):
    _switch(seller, "id")
    txn = scenarios.advance(scenarios.create(seller, buyer, title="Sepeda Lipat"), buyer, Status.VERIFIED)
    note = Notification.objects.get(recipient=seller, kind="payment_verified_seller")
    assert note.subject == f"Pembayaran terverifikasi: silakan kirim {txn.reference}"  # stored in Indonesian
    assert re.search(r"\d{2}\.\d{2} WIB", note.body) and note.params["deadline"]["wib"]

    client.force_login(seller)
    html = client.get(reverse("notifications:list")).content.decode()
    assert note.subject in html  # Indonesian while the reader reads Indonesian

    _switch(seller, "en")
    html = client.get(reverse("notifications:list")).content.decode()
    assert f"Payment verified: please ship {txn.reference}" in html
    assert note.subject not in html and note.body[:40] not in html
    # The deadline is said again in English: an English weekday and the 24-hour clock with a colon.
    with translation.override("en"):
        body = Notification.objects.get(pk=note.pk).display_body
    assert "Sepeda Lipat" in body and "Ship the goods" in body
    assert re.search(r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d+ \w+ \d{4} \d{2}:\d{2} WIB", body)


def test_a_row_stored_before_the_parameters_shows_its_stored_text(client, seller):
    note = Notification.objects.create(event_key="old", kind="payment_verified_seller", recipient=seller,
                                       email=seller.email, language="id", subject="Pembayaran terverifikasi: lama",
                                       body="Teks lama yang tersimpan.")
    assert note.params == {}
    _switch(seller, "en")
    client.force_login(seller)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Pembayaran terverifikasi: lama" in html and "Teks lama yang tersimpan." in html


def test_the_email_stays_in_the_recipients_language(seller, buyer, mailoutbox):
    _switch(seller, "id")
    scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    note = Notification.objects.get(recipient=seller, kind="payment_verified_seller")
    send_notification_email(note.pk)
    sent = [m for m in mailoutbox if m.to == [seller.email] and m.subject == note.subject]
    assert len(sent) == 1 and "Halo" in sent[0].body
    assert sent[0].body.count("Halo") == 1  # one greeting per email
