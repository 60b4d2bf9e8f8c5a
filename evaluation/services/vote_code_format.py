"""What a vote code looks like: typed loosely, stored normalized, printed in groups of four.

Pure text rules, shared by the ballot (what a voter typed) and the Excel import (what a
print shop delivered).
"""

from __future__ import annotations

import unicodedata

# Imported codes come from elsewhere: at least this long and this varied.
MIN_IMPORTED_LENGTH = 10
MAX_CODE_LENGTH = 32
MIN_DISTINCT = 5
_IGNORED = " -_\t\u3000"


def normalize(code: str) -> str:
    """Upper case, without spaces or dashes; full-width letters (a Chinese IME) made ASCII."""
    text = unicodedata.normalize("NFKC", code or "")
    return "".join(ch for ch in text.upper() if ch not in _IGNORED)


def is_well_formed(normalized: str) -> bool:
    return (
        MIN_IMPORTED_LENGTH <= len(normalized) <= MAX_CODE_LENGTH
        and normalized.isascii()
        and normalized.isalnum()
    )


def printed(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def masked(code: str) -> str:
    """Enough to find a card in a pile, not enough to vote with."""
    return printed(code[:4] + "*" * (len(code) - 6) + code[-2:])
