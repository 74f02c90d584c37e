"""Read the fee table that ships with the repo (``billing/data/fee_schedule.json``).

This is the only I/O around pricing: ``billing.pricing`` and ``billing.rules`` stay pure.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from billing.pricing import FeeSchedule, fee_schedule_from_dict

FEE_SCHEDULE_PATH = Path(__file__).resolve().parent / "data" / "fee_schedule.json"


def load_fee_schedule(path: Path = FEE_SCHEDULE_PATH) -> FeeSchedule:
    """Read and validate a fee-schedule JSON file; raise FeeScheduleError or OSError."""
    with path.open(encoding="utf-8") as handle:
        return fee_schedule_from_dict(json.load(handle))


@cache
def default_fee_schedule() -> FeeSchedule:
    """Return the repo's fee schedule, read once per process."""
    return load_fee_schedule()
