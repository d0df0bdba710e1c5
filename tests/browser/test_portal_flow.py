"""The captive-portal flow as a phone meets it: probe, welcome sheet, "Tiếp tục", online.

The browser reaches every host name through the box (see conftest), so these are the real probe
URLs that Android, Apple and Windows fetch when they join a Wi-Fi network.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error, Page, expect

pytestmark = pytest.mark.browser

ANDROID = "http://connectivitycheck.gstatic.com/generate_204"
APPLE = "http://captive.apple.com/hotspot-detect.html"
WINDOWS = "http://www.msftconnecttest.com/connecttest.txt"


def test_probe_opens_welcome_then_goes_online(page: Page) -> None:
    page.goto(ANDROID)
    expect(page).to_have_url("http://10.42.0.1/portal")
    expect(page.locator(".addr")).to_contain_text("10.42.0.1")
    page.goto(APPLE)  # still captive for every probe until the resident goes on
    expect(page).to_have_url("http://10.42.0.1/portal")

    page.get_by_role("button", name="Tiếp tục").click()
    expect(page).to_have_url("http://10.42.0.1/")
    expect(page.locator("a.proc").first).to_be_visible()

    assert probe_status(page, ANDROID) == 204
    response = page.goto(APPLE)
    assert response is not None and "Success" in response.text()
    response = page.goto(WINDOWS)
    assert response is not None and response.text() == "Microsoft Connect Test"


def test_other_sites_lead_to_the_box(page: Page) -> None:
    page.goto("http://example.com/some/page")
    expect(page).to_have_url("http://10.42.0.1/")
    expect(page.locator("a.proc").first).to_be_visible()


def probe_status(page: Page, url: str) -> int:
    """The status the phone's probe sees; a browser aborts a navigation answered with 204."""
    with page.expect_response(url) as answer:
        try:
            page.goto(url)
        except Error as exc:
            assert "ERR_ABORTED" in str(exc)
    return answer.value.status
