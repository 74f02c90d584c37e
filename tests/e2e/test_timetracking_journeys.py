"""Browser journey of time tracking against the seeded demo practice (Maple, New York).

A coordinator works down the worklist with the server-side timer across two tabs and a
reload, logs time by hand, corrects one entry, voids another, and the month's counted
minutes and progress bar follow every step.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.e2e

MAPLE_TZ = ZoneInfo("America/New_York")
TIMING_ROW = "table.worklist tbody tr:has(.timing)"


def _counted(page: Page) -> int:
    return int(page.inner_text(".month-summary .progress-text strong"))


def _entry_row(page: Page, note: str) -> Locator:
    return page.locator("table.entries tbody tr", has_text=note)


def _log_by_hand(page: Page, start: dt.datetime, minutes: int, note: str) -> None:
    page.fill("#id_date", start.date().isoformat())
    page.fill("#id_start_time", f"{start:%H:%M}")
    page.fill("#id_end_time", "")
    page.fill("#id_duration_minutes", str(minutes))
    page.select_option("#id_activity", "medication_reconciliation")
    page.fill("#id_note", note)
    page.click(".manual-entry button:has-text('Log time')")
    page.wait_for_load_state("networkidle")


def test_coordinator_times_a_call_in_two_tabs_then_logs_corrects_and_voids_entries(
    signed_in, live_url, screenshot
):
    first = signed_in("coordinator@maple.example")

    # given the worklist, patients who need minutes first
    first.goto(f"{live_url}/time/worklist/")
    screenshot(first, "time-worklist")
    row = first.locator("table.worklist tbody tr").first
    link = row.locator("td a").first
    patient_page = link.get_attribute("href")
    last_first = link.inner_text()

    # when the coordinator starts a timer from the top row
    row.locator("button", has_text="Start").click()
    # then the panel runs it and the row is marked in place
    first.wait_for_selector("#timer.is-running")
    assert "Timer running for" in first.inner_text("#timer")
    first.wait_for_selector(TIMING_ROW)
    assert last_first in first.inner_text(TIMING_ROW)
    started = first.locator("#timer time.timer-elapsed").get_attribute("data-started")
    screenshot(first, "time-worklist-timing")

    # when a second tab opens, and the first one reloads
    second = first.context.new_page()
    second.goto(f"{live_url}/time/worklist/")
    first.reload()
    # then both show the one timer the server keeps, from the same start
    for tab in (first, second):
        assert tab.locator("#timer time.timer-elapsed").get_attribute("data-started") == started
        assert "▶ Start" not in tab.inner_text(TIMING_ROW)

    # when the call ends and the second tab stops the timer with what was done
    second.select_option("#timer select[name=activity]", "patient_communication")
    second.fill("#timer textarea[name=note]", "E2E: went through the new inhaler technique.")
    second.click("#timer button:has-text('Stop and log')")
    # then
    second.wait_for_selector("#timer >> text=Logged")
    assert "No timer running" in second.inner_text("#timer")
    # and its row has its start button back, in place
    second.wait_for_selector(TIMING_ROW, state="detached")
    assert "▶ Start" in second.locator("table.worklist tbody tr", has_text=last_first).inner_text()
    # and the first tab shows it as soon as it is looked at again (or at its next poll)
    first.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    first.wait_for_selector("#timer >> text=No timer running", timeout=15_000)
    first.wait_for_selector(TIMING_ROW, state="detached")

    # given the patient's month: the timed call is there
    now = dt.datetime.now(MAPLE_TZ)
    first_call = (now - dt.timedelta(minutes=70)).replace(second=0, microsecond=0)
    if (now - dt.timedelta(minutes=80)).date() != now.date():  # just after midnight:
        # yesterday evening, after the demo's working hours (its month is open in the demo)
        yesterday = now.date() - dt.timedelta(days=1)
        first_call = dt.datetime.combine(yesterday, dt.time(22, 0), MAPLE_TZ)
    second_call = first_call + dt.timedelta(minutes=30)
    month = f"{first_call:%Y-%m}"
    first.goto(f"{live_url}{patient_page}?month={month}")
    before = _counted(first)
    if first_call.month == now.month:
        assert _entry_row(first, "inhaler technique").count() == 1

    # when two earlier calls are logged by hand, 15 and 10 minutes
    _log_by_hand(first, first_call, 15, "E2E: pharmacy call about refills.")
    _log_by_hand(first, second_call, 10, "E2E: called the daughter back.")
    # then both count
    assert "Logged" in first.inner_text(".messages")
    assert _counted(first) == before + 25
    screenshot(first, "time-patient-month")

    # when the 10-minute call is corrected to 12 minutes, with the reason
    _entry_row(first, "called the daughter back").locator("a", has_text="Correct").click()
    first.fill("#id_end_time", "")
    first.fill("#id_duration_minutes", "12")
    first.fill("#id_reason", "The call ran two minutes longer than logged.")
    first.click("button:has-text('Save correction')")
    first.wait_for_load_state("networkidle")
    # then the month counts the corrected minutes
    first.goto(f"{live_url}{patient_page}?month={month}")
    assert _counted(first) == before + 27
    assert _entry_row(first, "called the daughter back").locator("td.num").inner_text() == "12"

    # and the history keeps the original and the reason
    _entry_row(first, "called the daughter back").locator("a", has_text="Correct").click()
    history = first.inner_text(".revision")
    assert "The call ran two minutes longer than logged." in history
    assert "10 min" in history
    assert "12 min" in history
    screenshot(first, "time-entry-history")

    # when the pharmacy call is voided as a duplicate
    first.goto(f"{live_url}{patient_page}?month={month}")
    pharmacy = _entry_row(first, "pharmacy call about refills")
    pharmacy.locator("summary", has_text="Void").click()
    pharmacy.locator("input[name=reason]").fill("Logged twice: the call is in another entry.")
    pharmacy.locator("button", has_text="Void entry").click()
    first.wait_for_load_state("networkidle")
    # then it stays, marked voided, and no longer counts
    first.goto(f"{live_url}{patient_page}?month={month}")
    voided = _entry_row(first, "pharmacy call about refills")
    assert "voided" in voided.inner_text()
    assert _counted(first) == before + 12
    bar = first.locator(".month-summary [role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == str(before + 12)
    screenshot(first, "time-patient-month-after-void")
