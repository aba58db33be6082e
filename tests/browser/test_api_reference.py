"""The API reference at /schema renders its operations in Chromium under the app's CSP,
with no console error and no request to another host; an embed renders inside a frame."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.browser.conftest import LiveServer


def test_schema_page_renders_operations_from_this_server_only(
    page, live_server: LiveServer
) -> None:
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).netloc))
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/schema")
    page.wait_for_selector(".opblock", timeout=30_000)
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/events" in text for text in operations)
    assert any("/api/v1/manage/{community}/events" in text for text in operations)
    page.locator(".opblock-summary-path", has_text="/api/v1/events/{event}").first.click()
    page.wait_for_selector(".opblock-body", timeout=10_000)
    assert violations == []
    assert set(hosts) == {urlsplit(live_server.url).netloc}
