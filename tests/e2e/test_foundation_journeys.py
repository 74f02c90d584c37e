from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_coordinator_signs_in_and_sees_the_practice_dashboard(signed_in, live_url, screenshot):
    # given / when
    page = signed_in("coordinator@maple.example")
    # then
    assert page.url == f"{live_url}/"
    assert page.locator("h1").first.inner_text() == "Maple Family Medicine"
    assert "Demo: synthetic data only" in page.inner_text(".demo-banner")
    assert page.inner_text(".role") == "Care coordinator"
    screenshot(page, "dashboard-coordinator")


def test_physician_of_two_practices_picks_one_and_switches(signed_in, live_url, screenshot):
    # given a physician who works for both demo practices
    page = signed_in("morgan.reyes@demo.example")
    assert page.url == f"{live_url}/practice/choose/"
    screenshot(page, "practice-chooser")
    # when
    page.click("button:has-text('Harbor Internal Medicine')")
    # then
    assert page.locator("h1").first.inner_text() == "Harbor Internal Medicine"
    assert "You are now working in Harbor Internal Medicine." in page.inner_text(".messages")
    # when switching again from the header
    page.click(".practice-pill")
    page.click("button:has-text('Maple Family Medicine')")
    # then
    assert page.locator("h1").first.inner_text() == "Maple Family Medicine"
    screenshot(page, "dashboard-after-switch")


def test_wrong_password_is_refused_with_a_clear_message(browser, live_url, screenshot):
    # given
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_url}/accounts/login/")
    # when
    page.fill("input[name=login]", "manager@maple.example")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    # then
    assert "/accounts/login/" in page.url
    assert "not correct" in page.inner_text("main").lower()
    screenshot(page, "login-refused")
    context.close()
