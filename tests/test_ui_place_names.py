"""Messages that send the user to a tab or page name it by the label the user actually sees."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po
from test_i18n import CATALOG, ROOT, _source_messages

# Where a message sends the user: "请在“X”中…", "可在“X”页面…", "取自“X”和“Y”".
_QUOTED = re.compile(r"“([^”]+)”")
_SENDS_TO = re.compile(r"(在|使用|取自|见)“[^”]+”")


def _visible_labels() -> set[str]:
    """Tab, menu and link labels and page headings, as the templates show them."""
    labels = set()
    pattern = re.compile(r">\s*\{\{ _\('([^']+)'\) \}\}\s*</(?:a|h1)>")
    for path in (ROOT / "templates").rglob("*.html"):
        labels.update(pattern.findall(path.read_text(encoding="utf-8")))
    return labels


def _place_names(message: str) -> list[str]:
    if not _SENDS_TO.search(message):
        return []
    return _QUOTED.findall(message)


def test_messages_name_tabs_and_pages_by_their_labels():
    labels = _visible_labels()
    assert "阶段与权重" in labels and "指标体系" in labels
    wrong = sorted(
        (name, message)
        for message in _source_messages()
        for name in _place_names(message)
        if "%(" not in name and name not in labels
    )
    assert wrong == []


def test_english_messages_name_tabs_by_their_english_labels():
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    labels = _visible_labels()
    wrong = []
    for message in _source_messages():
        for name in _place_names(message):
            if name not in labels:
                continue
            english_label = catalog.get(name).string
            english = catalog.get(message).string
            if not re.search(rf"[“\"]{re.escape(english_label)}[”\"]", english):
                wrong.append((english_label, english))
    assert wrong == []
