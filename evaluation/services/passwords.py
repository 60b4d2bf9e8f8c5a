"""The password policy (ASVS 5.0 V6.2): length, not composition.

- at least 12 characters, at most 128 (a passphrase of any script; counted in characters,
  after Unicode NFC so a composed and a decomposed 密 count alike); no rule about which
  kinds of characters (ASVS V6.2.5 forbids composition rules);
- not one of 19,640 common passwords (`evaluation/data/common-passwords.txt.gz`, V6.2.4 and,
  offline, V6.2.12);
- not the account's name or a word of this platform's context with only digits or symbols
  added (`pingyi2024!!!!`, V6.1.2 / V6.2.11), and not the demo's published password.

The password is checked and stored exactly as typed (no trimming, no case folding).
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

# The demo's accounts share this published password (README): refused as a new password
# everywhere, and refused at login in production (services/accounts.py::authenticate).
DEFAULT_DEMO_PASSWORD = "pingyi-demo-2024"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
# The platform's own words (V6.1.2): its name, its subject, the demo's accounts.
CONTEXT_WORDS = frozenset(
    {
        "pingyi", "评议", "履职评议", "pufa", "普法", "sifaju", "司法局", "shuizhifa",
        "谁执法谁普法", "admin", "administrator", "organizer", "reviewer", "inspector",
        "ruyuan", "password", "mima", "密码", "pingyidemo", "shaoguan", "韶关",
    }
)


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalpha())


def password_problem(password: str, username: str | None = None) -> str | None:
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_PASSWORD_LENGTH:
        return str(_l("密码至少需要 %(n)d 个字符。", n=MIN_PASSWORD_LENGTH))
    if length > MAX_PASSWORD_LENGTH:
        return str(_l("密码最多 %(n)d 个字符。", n=MAX_PASSWORD_LENGTH))
    if password.casefold() in common_passwords() or password == DEFAULT_DEMO_PASSWORD:
        return str(_l("这是常见或已公开的密码，很容易被猜中，请换一个。"))
    letters = _letters(password)
    if letters in CONTEXT_WORDS or (username and letters == _letters(username)):
        return str(_l("密码不能只是用户名或本平台名称加上数字或符号，请换一个。"))
    return None
