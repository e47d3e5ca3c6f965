"""CSRF secrets and masks from one system call each (``intrasa.csrf``): the same strings Django would
make (alphabet, length, uniform), accepted by Django's own check, and drawn in place of Django's."""
import os
import re
from collections import Counter
from unittest import mock

import pytest
from django.middleware import csrf as django_csrf
from django.test import Client, RequestFactory

from intrasa import csrf


def test_django_draws_its_csrf_strings_from_ours():
    # Django 5.2's name for the one function its CSRF code draws from; if an upgrade renames it,
    # this fails rather than the site quietly going back to one system call per character.
    assert django_csrf._get_new_csrf_string is csrf.new_csrf_string


def test_a_csrf_string_has_djangos_length_and_alphabet():
    strings = {csrf.new_csrf_string() for _ in range(200)}
    assert len(strings) == 200
    for value in strings:
        assert len(value) == django_csrf.CSRF_SECRET_LENGTH
        assert not django_csrf.invalid_token_chars_re.search(value)


def test_every_character_is_equally_likely():
    """Chi-square over 640,000 characters, 61 degrees of freedom (mean 61, sd 11): a fair draw stays far
    under 140; keeping the bytes the modulo would favour (248–255) puts it in the thousands."""
    counts = Counter("".join(csrf.new_csrf_string() for _ in range(20_000)))
    total = sum(counts.values())
    expected = total / len(csrf.ALPHABET)
    assert set(counts) == set(csrf.ALPHABET)
    chi_square = sum((counts[char] - expected) ** 2 / expected for char in csrf.ALPHABET)
    assert chi_square < 140, chi_square


def test_the_bytes_the_modulo_would_favour_are_thrown_away_and_replaced():
    supplied = [bytes([255, 248, 0, 61, 62]), bytes([249, 63])]
    with mock.patch.object(csrf.os, "urandom", side_effect=lambda n: supplied.pop(0)):
        assert csrf.random_string(4) == "a9ab"  # 0 → a, 61 → 9, 62 → a, then from the next call 63 → b
    assert supplied == []


def test_a_token_costs_one_system_call_and_django_unmasks_it_to_the_secret():
    request = RequestFactory().get("/")
    with mock.patch.object(csrf.os, "urandom", wraps=os.urandom) as urandom:
        token = django_csrf.get_token(request)  # a new secret, then its mask
    assert urandom.call_count == 2
    secret = request.META["CSRF_COOKIE"]
    assert len(token) == django_csrf.CSRF_TOKEN_LENGTH
    assert django_csrf._unmask_cipher_token(token) == secret


@pytest.mark.django_db
def test_djangos_csrf_check_accepts_the_form_token_and_still_refuses_a_wrong_one():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/akun/masuk/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    login = {"username": "nobody@example.com", "password": "wrong-password"}
    accepted = client.post("/akun/masuk/", {**login, "csrfmiddlewaretoken": token})
    assert accepted.status_code == 200  # the form answered (a wrong password), not the CSRF refusal
    assert "csrfmiddlewaretoken" in accepted.content.decode()
    forged = client.post("/akun/masuk/", {**login, "csrfmiddlewaretoken": csrf.new_csrf_string() * 2})
    assert forged.status_code == 403
