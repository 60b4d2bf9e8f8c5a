"""Headless Chromium (Debian's package) driven by Playwright, against a real `pingyi serve`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from serverproc import Server, demo_instance

CHROMIUM = os.environ.get("PINGYI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}: `make test` installs Debian's "
            "chromium package when apt-get is available and it runs as root"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("browser-instance")
    demo_instance(instance)
    with Server(instance) as server:
        yield server


@pytest.fixture
def page_for(chromium):
    contexts = []

    def open_page(width: int = 1366, height: int = 900):
        context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
