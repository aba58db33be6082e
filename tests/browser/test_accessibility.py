"""axe-core over the main pages of the demo (`rencontres demo`, what `make run` shows), in
Chromium: the public pages a visitor and an attendee meet, on a phone, and the organiser's
pages on a desktop. Zero WCAG 2 A/AA violations on each (issue 14, "What it must show")."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from playwright.sync_api import Browser

from tests.browser.accessibility import violations
from tests.browser.conftest import PHONE, ROOT, LiveServer

PASSWORD = "demo accessibility walk 2030"


def seed_demo(live_server: LiveServer) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(live_server.data_dir),
        "DATABASE_URL": live_server.database_url,
        "DEMO_PASSWORD": PASSWORD,
    }
    subprocess.run(
        [sys.executable, "-m", "web.cli", "demo"], env=env, check=True, cwd=ROOT, timeout=300
    )


def test_the_main_pages_have_no_accessibility_violations(
    browser: Browser, live_server: LiveServer
) -> None:
    seed_demo(live_server)
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", bypass_csp=True, **PHONE
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    events = sorted(
        set(re.findall(r'href="(/e/[a-z0-9-]+)"', page.content())), key=len, reverse=True
    )
    assert len(events) >= 3, events  # the demo's events are listed
    public = ["/", "/past", "/login", "/privacy", "/g/cafe-des-possibles", *events[:4]]
    for path in public:
        page.goto(path)
        assert violations(page) == [], path
    context.close()

    context = browser.new_context(base_url=live_server.url, locale="fr-FR", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", "demo@example.org")
    page.fill("#f-password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url("**/manage**")
    page.goto("/manage/cafe-des-possibles")
    assert violations(page) == [], "/manage/cafe-des-possibles"
    base = "/manage/cafe-des-possibles/events/"
    managed = sorted(set(re.findall(rf'href="({base}[a-z0-9-]+)"', page.content())))
    assert managed, "the dashboard lists the community's events"
    event = managed[0]
    for path in (event, f"{event}/attendees", f"{event}/door", f"{event}/questions"):
        page.goto(path)
        assert violations(page) == [], path
    context.close()
