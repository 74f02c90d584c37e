"""A version's content and a diff, shaped for templates (which cannot look keys up).

Each goal and intervention is paired with the name of the problem it belongs to; narrative
fields come as (name, label, value) rows in the plan's order.
"""

from __future__ import annotations

from typing import Any

from careplans.content import TEXT_FIELDS, ItemChange, PlanContent, VersionDiff


def condition_names(*contents: PlanContent | None) -> dict[str, str]:
    names: dict[str, str] = {}
    for content in contents:
        if content is not None:
            names |= {p.condition: p.description or p.code for p in content.problems}
    return names


def content_sections(content: PlanContent) -> dict[str, Any]:
    names = condition_names(content)
    return {
        "problems": content.problems,
        "goals": [{"goal": goal, "about": names.get(goal.condition, "")} for goal in content.goals],
        "interventions": [
            {"item": item, "about": names.get(item.condition, "")} for item in content.interventions
        ],
        "texts": [
            {"name": name, "label": label, "value": content.texts.get(name, "")}
            for name, label in TEXT_FIELDS
        ],
        "next_review_on": content.next_review_on,
    }


def _rows(changes: tuple[ItemChange, ...], names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "kind": change.kind,
            "before": change.before,
            "after": change.after,
            "fields": change.fields,
            "field_labels": [name.replace("_", " ") for name in change.fields],
            "about": names.get(getattr(change.item, "condition", ""), ""),
        }
        for change in changes
    ]


def diff_sections(
    diff: VersionDiff, *, before: PlanContent | None, after: PlanContent
) -> dict[str, Any]:
    names = condition_names(before, after)
    return {
        "fields": diff.fields,
        "problems": _rows(diff.problems, names),
        "goals": _rows(diff.goals, names),
        "interventions": _rows(diff.interventions, names),
        "is_empty": diff.is_empty,
        "count": len(diff.fields) + len(diff.problems) + len(diff.goals) + len(diff.interventions),
    }
