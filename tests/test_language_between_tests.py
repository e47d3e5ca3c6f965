"""A test that leaves another language active does not change the next one's (tests/conftest.py)."""
from django.utils import translation


def test_a_test_that_leaves_english_active():
    translation.activate("en")
    assert translation.get_language() == "en"


def test_the_next_test_starts_in_indonesian():
    assert translation.get_language() == "id"
