"""The chronic-condition reference list: ICD-10-CM code ranges → chronic condition categories.

The list (``patients/data/chronic_conditions.json``) only *suggests* that a condition is
chronic. R-ELIG-3: CMS keeps no exhaustive list, so whether a condition counts toward CCM
eligibility is the clinician's attestation (``Condition.chronic_attested``), never this lookup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "chronic_conditions.json"


@dataclass(frozen=True, slots=True)
class ChronicCategory:
    key: str
    label: str
    ranges: tuple[tuple[str, str], ...]

    def matches(self, compact_code: str) -> bool:
        return any(start <= compact_code[: len(start)] <= end for start, end in self.ranges)


@dataclass(frozen=True, slots=True)
class ChronicReference:
    source: str
    categories: tuple[ChronicCategory, ...]


@cache
def chronic_reference() -> ChronicReference:
    """The reference list, read once per process."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return ChronicReference(
        source=raw["source"],
        categories=tuple(
            ChronicCategory(
                key=item["key"],
                label=item["label"],
                ranges=tuple(
                    (start.replace(".", ""), end.replace(".", "")) for start, end in item["ranges"]
                ),
            )
            for item in raw["categories"]
        ),
    )


def chronic_category_for(code: str) -> str | None:
    """The chronic category key of an ICD-10-CM code (``"E11.9"`` → ``"diabetes"``), or None.

    Pure: no database. The code may come with or without its dot, in any case.
    """
    compact = code.strip().upper().replace(".", "")
    for category in chronic_reference().categories:
        if category.matches(compact):
            return category.key
    return None


def chronic_category_label(key: str) -> str:
    """``"diabetes"`` → ``"Diabetes"``; an unknown key is returned unchanged."""
    for category in chronic_reference().categories:
        if category.key == key:
            return category.label
    return key


def chronic_category_choices() -> list[tuple[str, str]]:
    """``(key, label)`` pairs for a filter drop-down, in label order."""
    return sorted(
        ((category.key, category.label) for category in chronic_reference().categories),
        key=lambda pair: pair[1],
    )
