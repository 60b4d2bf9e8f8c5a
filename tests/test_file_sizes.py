"""File sizes as people read them: bytes under 1 KB, then KB, then MB; one helper for all."""

from __future__ import annotations

import pytest

from evaluation.file_sizes import file_size


@pytest.mark.parametrize(
    "size, shown",
    [
        (1, "1 字节"),
        (83, "83 字节"),
        (1023, "1023 字节"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (1024 * 1024 - 1, "1.0 MB"),  # not "1024.0 KB"
        (1024 * 1024, "1.0 MB"),
        (10 * 1024 * 1024, "10.0 MB"),
    ],
)
def test_file_size(app, size, shown):
    with app.test_request_context():
        assert file_size(size) == shown


def test_file_size_follows_the_language(app):
    with app.test_request_context("/?lang=en"):
        assert file_size(83) == "83 B"


def test_templates_use_the_one_helper_not_their_own_arithmetic():
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "/ 1024" not in text and "/1024" not in text, template
