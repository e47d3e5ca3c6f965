"""Reference numbers: unique, non-sequential, hard to guess, with a check character.

Format ``INT-XXXX-XXXX-XXXC``: eleven random characters from Crockford's base-32 alphabet
(55 bits, no I/L/O/U, so nothing reads as another letter) and one check character computed with
the Luhn mod N algorithm, which catches every single mistyped character and every swap of two
adjacent characters. People may type the reference in lower case, without dashes, or with O for 0
and I/L for 1.
"""
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "INT"
RANDOM_LENGTH = 11
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(rf"^{PREFIX}[{ALPHABET}]{{{RANDOM_LENGTH + 1}}}$")


def check_character(body: str) -> str:
    """Luhn mod 32 over ``body`` (characters of ALPHABET)."""
    n = len(ALPHABET)
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def format_reference(compact: str) -> str:
    """``INTABCD…`` → ``INT-ABCD-EFGH-JKMN``."""
    body = compact[len(PREFIX):]
    return "-".join([PREFIX, body[0:4], body[4:8], body[8:12]])


def generate_reference() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return format_reference(PREFIX + body + check_character(body))


class ReferenceStatus:
    VALID = "valid"
    MALFORMED = "malformed"  # not shaped like a reference at all
    CHECK_FAILED = "check_failed"  # shaped right, but a character is mistyped


def normalize_reference(text: str) -> str:
    """Upper-case, drop spaces and dashes, map Crockford look-alikes; keeps the ``INT`` prefix."""
    compact = re.sub(r"[\s\-_.]", "", (text or "").upper())
    if compact.startswith(PREFIX):
        return PREFIX + compact[len(PREFIX):].translate(_CROCKFORD_ALIASES)
    return compact.translate(_CROCKFORD_ALIASES)


def parse_reference(text: str) -> tuple[str, str | None]:
    """Return ``(status, formatted_reference)``; the reference is ``None`` unless status is VALID."""
    compact = normalize_reference(text)
    if not compact.startswith(PREFIX):
        compact = PREFIX + compact
    if not _SHAPE.match(compact):
        return ReferenceStatus.MALFORMED, None
    body, check = compact[len(PREFIX):-1], compact[-1]
    if check_character(body) != check:
        return ReferenceStatus.CHECK_FAILED, None
    return ReferenceStatus.VALID, format_reference(compact)
