"""CSRF secrets and masks drawn from the operating system's random source in one call each.

Django makes every CSRF secret, and the fresh mask of every token it puts in a form, with
``get_random_string``: ``secrets.choice`` once per character, and each choice is an ``os.urandom``
system call (33 or so for 32 characters, counting the draws it throws away). Every page with a form
pays that: ~45 µs of the web process for one token on the benchmark's machine, where system calls are
dear (``benchmarks/README.md``), against ~3 µs for the same string from one ``os.urandom`` call.

``random_string`` gives the same thing: each character uniform over the alphabet and independent of
the others, from the same source (``os.urandom``, what ``secrets`` uses). A byte is kept only below the
largest multiple of the alphabet's size (248 for Django's 62 characters), so the modulo favours no
character; the few bytes thrown away are replaced from the next call.

``install()`` (``intrasa.apps``) puts ``new_csrf_string`` in the place of Django's
``django.middleware.csrf._get_new_csrf_string``, the one function Django's CSRF code draws from (new
secrets, masks, ``rotate_token`` at login). Django 5.2's name; ``tests/test_csrf_randomness.py``
fails if it disappears, or if Django stops accepting the tokens made this way.
"""
import os

from django.middleware import csrf as django_csrf

ALPHABET = django_csrf.CSRF_ALLOWED_CHARS


def random_string(length: int, alphabet: str = ALPHABET) -> str:
    """``length`` characters of ``alphabet`` (at most 256 characters), uniform and independent."""
    size = len(alphabet)
    if not 0 < size <= 256:
        raise ValueError("the alphabet must have 1 to 256 characters")
    below = 256 - 256 % size  # bytes under this map onto the alphabet evenly
    chosen: list[str] = []
    while len(chosen) < length:
        wanted = length - len(chosen)
        # More than asked for: with 62 characters 8 bytes in 256 are thrown away, so 44 bytes give 32
        # characters but for about one string in a billion (which then makes a second call).
        for byte in os.urandom(wanted + wanted // 4 + 4):
            if byte < below:
                chosen.append(alphabet[byte % size])
                if len(chosen) == length:
                    break
    return "".join(chosen)


def new_csrf_string() -> str:
    """A CSRF secret or mask: what Django's ``_get_new_csrf_string`` returns, from one system call."""
    return random_string(django_csrf.CSRF_SECRET_LENGTH)


def install() -> None:
    django_csrf._get_new_csrf_string = new_csrf_string
