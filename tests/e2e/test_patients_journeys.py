"""Browser journeys of the patients pages, against the seeded demo practice (Maple)."""

from __future__ import annotations

import re

import pytest

from patients.views.imports import SAMPLES

pytestmark = pytest.mark.e2e


def test_manager_imports_the_panel_finds_a_candidate_and_enrolls_them(
    signed_in, live_url, screenshot
):
    page = signed_in("manager@maple.example")

    # given the manager checks the sample panel (a dry run)
    page.click("nav.mainnav >> text=Import")
    screenshot(page, "patients-import")
    page.set_input_files("#id_file", str(SAMPLES["panel"]))
    page.click("form[action$='/imports/panel/'] button[type=submit]")
    # then nothing is saved yet, and the preview says what would happen
    assert "20" in page.inner_text(".preview-counts")
    assert "to create" in page.inner_text(".preview-counts")
    assert "imported without the chronic attestation" in page.inner_text("main")
    screenshot(page, "patients-import-preview")

    # when the import is confirmed
    page.click("text=Import 20 rows")
    # then
    assert page.locator("h1").inner_text() == "Patient panel imported"
    assert "20" in page.inner_text(".preview-counts")

    # when the manager looks at the panel and searches for an imported patient
    page.click("nav.mainnav >> text=Patients")
    assert page.locator(".status-strip").is_visible()
    screenshot(page, "patients-list")
    page.fill("#id_search", "S-1001")
    page.wait_for_selector("#patient-results >> text=Whitaker")
    page.wait_for_function("document.querySelectorAll('#patient-results tbody tr').length === 1")
    assert "Whitaker" in page.inner_text("#patient-results tbody")

    # when the manager opens the eligibility finder
    page.click("nav.mainnav >> text=Eligibility")
    screenshot(page, "patients-eligibility")
    row = page.locator("table.eligibility-table tbody tr", has_text="Not reviewed").first
    name = row.locator("td a").first.inner_text()
    href = row.locator("td a").first.get_attribute("href")
    assert row.locator("ul.why li").count() >= 2

    # and records an outreach call from the list
    row.locator("summary", has_text="Record outreach").click()
    row.locator("select[name=outcome]").select_option("agreed")
    row.locator("button", has_text="Save attempt").click()
    # then
    assert "Outreach to" in page.inner_text(".messages")
    assert page.url.startswith(f"{live_url}/eligibility/")

    # when the manager records the consent, with the three explanations
    page.goto(f"{live_url}{href}")
    assert page.locator(".patient-head h1").inner_text() == _first_last(name)
    page.click("#consent >> text=Record consent")
    if not page.locator("#id_practitioner").input_value():
        page.select_option("#id_practitioner", index=1)
    page.check("#id_explained_cost_sharing")
    page.check("#id_explained_one_practitioner")
    page.check("#id_explained_stop_anytime")
    page.check("#id_method_0")
    screenshot(page, "patients-consent-form")
    page.click("button:has-text('Record consent')")
    # then
    assert "consent to CCM was recorded" in page.inner_text(".messages")
    assert "on file" in page.inner_text("#consent")

    # when the manager enrolls the patient
    page.click("text=Enroll in CCM")
    page.click("button:has-text('Enroll')")
    # then
    assert f"{_first_last(name)} is enrolled in CCM." in page.inner_text(".messages")
    assert page.locator(".patient-title .badge").inner_text() == "Enrolled"
    timeline = page.inner_text("#enrollment .timeline")
    assert re.search(r"Enrolled\s+from consented", timeline)
    screenshot(page, "patients-detail")


def test_a_refused_consent_shows_the_missing_explanation_next_to_it(
    signed_in, live_url, screenshot
):
    # given a coordinator on a candidate's consent form
    page = signed_in("coordinator@maple.example")
    page.click("nav.mainnav >> text=Eligibility")
    page.locator("table.eligibility-table tbody tr td a").first.click()
    page.click("#consent >> text=Record consent")
    if not page.locator("#id_practitioner").input_value():
        page.select_option("#id_practitioner", index=1)
    # when only two of the three explanations are confirmed
    page.check("#id_explained_cost_sharing")
    page.check("#id_explained_stop_anytime")
    page.check("#id_method_0")
    page.click("button:has-text('Record consent')")
    # then the form says which one is missing, and nothing was saved
    error = page.inner_text("ol.script li.invalid .errorlist")
    assert "only one practitioner can furnish and bill CCM" in error
    assert page.locator("#id_explained_cost_sharing").is_checked()
    screenshot(page, "patients-consent-refused")


def test_coordinator_adds_a_patient_by_hand_after_a_taken_mrn_is_refused(
    signed_in, live_url, screenshot
):
    # given
    page = signed_in("coordinator@maple.example")
    page.click("nav.mainnav >> text=Patients")
    page.click("text=Add patient")
    # when the MRN is one the practice already uses
    page.fill("#id_mrn", "M-2001")
    page.fill("#id_first_name", "Rosa")
    page.fill("#id_last_name", "Lindgren")
    page.fill("#id_date_of_birth", "1949-05-17")
    page.check("#id_medicare_part_b")
    page.select_option("#id_billing_practitioner", index=1)
    page.click("button:has-text('Add patient')")
    # then the form says so next to the MRN, and keeps what was typed
    assert page.inner_text(".form-row.invalid .errorlist") == (
        "Another patient already has MRN M-2001."
    )
    assert page.locator("#id_first_name").input_value() == "Rosa"
    screenshot(page, "patients-create-refused")
    # when corrected
    page.fill("#id_mrn", "M-7001")
    page.click("button:has-text('Add patient')")
    # then
    assert "Rosa Lindgren was added to the panel." in page.inner_text(".messages")
    assert page.locator(".patient-head h1").inner_text() == "Rosa Lindgren"


def _first_last(listed: str) -> str:
    """``Whitaker, Harold`` (as the lists show names) → ``Harold Whitaker``."""
    last, first = (part.strip() for part in listed.split(",", 1))
    return f"{first} {last}"
