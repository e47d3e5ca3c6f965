"""Reference numbers: unique, non-sequential, hard to guess, with a check character.

Format ``INT-XXXX-XXXX-XXXC``: eleven random characters from a 31-symbol alphabet (Crockford's
base 32 without I, L, O, U — nothing reads as another letter — and without Z, which reads as 2),
about 54 bits, and one check character. The check is a weighted sum modulo the prime 31 over all
twelve characters (weights 1…12, the check character included), so that it catches every single
mistyped character and every swap of two characters, adjacent or not: a weight and a difference of
two symbol values are never 0 modulo a prime larger than both. People may type the reference in
lower case, without dashes, or with O for 0 and I/L for 1.
"""
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
MODULUS = len(ALPHABET)  # 31, a prime
PREFIX = "INT"
RANDOM_LENGTH = 11
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(rf"^{PREFIX}[{ALPHABET}]{{{RANDOM_LENGTH + 1}}}$")


def _weighted_sum(chars: str) -> int:
    return sum(weight * ALPHABET.index(char) for weight, char in enumerate(chars, start=1))


def check_character(body: str) -> str:
    """The character that makes the weighted sum of ``body`` + check ≡ 0 (mod 31)."""
    weight = len(body) + 1
    # Solve partial + weight·c ≡ 0: c = -partial · weight⁻¹ (mod 31).
    return ALPHABET[(-_weighted_sum(body) * pow(weight, -1, MODULUS)) % MODULUS]


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
    if _weighted_sum(compact[len(PREFIX):]) % MODULUS != 0:
        return ReferenceStatus.CHECK_FAILED, None
    return ReferenceStatus.VALID, format_reference(compact)
