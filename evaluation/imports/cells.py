"""Cell values as people type them, made comparable.

Real workbooks carry full-width digits and spaces (typed with a Chinese input method),
zero-width characters (pasted from web pages or WeChat), numbers stored as text and
floats where a whole number was meant. Everything here is NFKC-normalized text or an
exact Decimal; a binary float never reaches a points figure.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal

from evaluation.spreadsheet_text import without_controls

# Invisible characters that pasted text brings along.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# Chinese names use full-width parentheses; NFKC turned them half-width, so turn them back.
_TO_CHINESE_PARENTHESES = str.maketrans({"(": "（", ")": "）"})
# Chinese punctuation NFKC folds to ASCII (，→ , ：→ : …→ ...). Text that is stored and
# shown keeps it as typed: "以案释法，到位" is not "以案释法,到位" in an official notice.
_CHINESE_PUNCTUATION = "，：；！？（）～…"
_FOLDABLE_RUN = re.compile(f"[^{re.escape(_CHINESE_PUNCTUATION)}]+")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _nfkc_but_chinese_punctuation(text: str) -> str:
    return _FOLDABLE_RUN.sub(lambda run: _nfkc(run.group()), text)


def clean_text(value: object, normalize=_nfkc) -> str:
    """NFKC text with runs of whitespace (including U+3000) collapsed and the ends trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = normalize(str(value)).translate(_INVISIBLE)
    # whitespace controls (\x0b, \x1c…) fold into spaces first; the others are dropped
    return " ".join(without_controls(" ".join(text.split())).split())


def written_text(value: object) -> str:
    """Text to store (names, titles, groups): cleaned, Chinese punctuation kept as typed.

    Full-width letters, digits and spaces are still folded; comparisons use `name_key`.
    """
    return clean_text(value, _nfkc_but_chinese_punctuation)


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    # repr is the shortest text that reads back as the same float: 2.5, not 2.4999999.
    return str(int(value)) if value.is_integer() else repr(value)


def chinese_name(value: object) -> str:
    """A name to store: cleaned, with parentheses written the Chinese way （）."""
    return written_text(value).translate(_TO_CHINESE_PARENTHESES)


def name_key(value: object) -> str:
    """What makes two names the same name: no spaces, one kind of punctuation, one case."""
    return clean_text(value).translate(_TO_CHINESE_PARENTHESES).replace(" ", "").casefold()


def code_text(value: object) -> str:
    """An indicator code: cleaned and without inner spaces ("A 1" and "Ａ１" are "A1")."""
    return clean_text(value).replace(" ", "")


def is_blank(values: tuple) -> bool:
    return all(clean_text(value) == "" for value in values)


def to_decimal(value: object) -> Decimal | None:
    """The exact number a cell holds or spells ("２０", " 20 ", "20分", 20.0); None if none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = clean_text(value).replace(" ", "").removesuffix("分")
    if not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def to_whole_number(value: object) -> int | None:
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
