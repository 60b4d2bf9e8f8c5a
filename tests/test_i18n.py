"""Languages: Chinese by default, English complete, switchable per user and by ?lang=."""

from __future__ import annotations

import re
from pathlib import Path

import factories as f
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from jinja2 import Environment
from sqlmodel import select

from evaluation.models import Role, User

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "evaluation" / "translations" / "en" / "LC_MESSAGES"
METHODS = [
    ("evaluation/**.py", "python"),
    ("live/**.py", "python"),
    ("templates/**.html", "jinja2"),
]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_has_an_english_translation():
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    missing = sorted(
        m for m in _source_messages() if not (catalog.get(m) and catalog.get(m).string)
    )
    assert missing == [], "run `make messages`, translate, compile"


def test_the_compiled_catalog_matches_the_po_file():
    with open(CATALOG / "messages.po", "rb") as po, open(CATALOG / "messages.mo", "rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    stale = [m.id for m in source if m.id and compiled.get(m.id) is None]
    assert stale == [], "run `pybabel compile -d evaluation/translations`"


def test_chinese_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<h1>登录</h1>" in html and 'lang="zh-CN"' in html


def test_lang_parameter_switches_and_is_remembered(client):
    assert "<h1>Log in</h1>" in client.get("/login?lang=en").get_data(as_text=True)
    assert "<h1>Log in</h1>" in client.get("/login").get_data(as_text=True)
    assert "<h1>登录</h1>" in client.get("/login?lang=zh").get_data(as_text=True)


def test_unknown_lang_parameter_is_ignored(client):
    assert "<h1>登录</h1>" in client.get("/login?lang=xx").get_data(as_text=True)


def test_language_choice_is_kept_on_the_user_account(web, db):
    f.user(db, Role.ORGANIZER, f.org(db), username="wang")
    web.login("wang")
    assert web.post("/account/language", {"lang": "en", "next": "/admin/"}).status_code == 302
    db.expire_all()
    assert db.exec(select(User).where(User.username == "wang")).one().locale == "en"
    web.logout()  # the session (and its language) is gone...
    web.login("wang")
    html = web.client.get("/admin/").get_data(as_text=True)
    assert "New evaluation" in html or "Evaluations" in html  # ...the account remembers


def test_form_errors_follow_the_language(web, db):
    response = web.client.get("/login?lang=en")
    assert response.status_code == 200
    response = web.post("/login", {"username": "", "password": ""})
    assert "This field is required." in response.get_data(as_text=True)


# Chinese written into a template outside `_()` stays Chinese on the English pages:
# "Comment moderation（0）", "ImportJudges：judges.xlsx", "plan.pdf （303 B）".
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Deliberately Chinese whatever the language: the 简体/繁體 switch names each script in
# itself; the grade names and the group-weights example are the stored values they match.
CHINESE_ON_PURPOSE = {
    ("public/_display_switch.html", "简体"),
    ("public/_display_switch.html", "繁體"),
    ("public/agency_history.html", "优秀"),
    ("public/agency_history.html", "良好"),
    ("public/agency_history.html", "合格"),
    ("results/_policy_fields.html", "专家:40 人大代表:30 群众代表:30"),
}
GETTEXT_CALLS = {"_", "gettext", "ngettext"}


def _untranslated_template_text(name: str, source: str) -> list[tuple[str, int, str]]:
    tokens = [t for t in Environment(extensions=["jinja2.ext.i18n"]).lex(source)
              if t[1] != "whitespace"]
    found = []
    for index, (line, kind, value) in enumerate(tokens):
        if kind not in ("data", "string") or not CHINESE.search(value):
            continue
        before = [t[2] for t in tokens[max(0, index - 2):index]]
        is_message = before[-2:-1] and before[0] in GETTEXT_CALLS and before[-1] == "("
        if kind == "string" and is_message:
            continue
        if any(name == file and purpose in value for file, purpose in CHINESE_ON_PURPOSE):
            continue
        found += [(name, line, word[:40]) for word in value.split() if CHINESE.search(word)]
    return found


def test_templates_write_no_chinese_outside_gettext():
    templates = ROOT / "templates"
    found = []
    for path in sorted(templates.rglob("*.html")):
        name = path.relative_to(templates).as_posix()
        found += _untranslated_template_text(name, path.read_text(encoding="utf-8"))
    assert found == []
