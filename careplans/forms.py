"""HTML input of care plans. Choices come from the patient's own conditions and the enums."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms

from careplans.content import (
    TEXT_FIELDS,
    GoalStatus,
    PlanContent,
    ResponsibleRole,
)
from careplans.models import CopyMethod, CopyRecipient, MedicalDecisionMaking
from careplans.plan_templates import PlanTemplate
from patients.models import Condition

TEXT_HELP: dict[str, str] = {
    "expected_outcome": "What the patient and the team expect to achieve.",
    "prognosis": "The likely course of the conditions.",
    "symptom_management": "What to watch for, what to do, and when to call.",
    "medication_management": "Reconciliation, adherence and who manages which medicines.",
    "cognitive_assessment": "Memory and thinking (for example Mini-Cog or MoCA result).",
    "functional_assessment": "Daily activities (ADL/IADL), mobility and falls.",
    "environmental_evaluation": "Home safety, transport, food and housing.",
    "caregiver_assessment": "Who helps, how much, and how they are coping (or: no caregiver).",
    "community_services": "Services ordered or referred: meals, transport, support groups.",
    "care_coordination": "Specialists, home health, pharmacy and agencies, and how they are "
    "kept informed.",
    "review_schedule": "How often the plan is reviewed and what triggers an earlier review.",
    "revision_note": "For a revision: what changed and why.",
}


SHORT_LABEL = 28
ROW_TEXT = {"rows": 2, "class": "row-text"}


def _condition_choices(
    conditions: Sequence[Condition], *, short: bool = False
) -> list[tuple[str, str]]:
    choices = []
    for condition in conditions:
        label = f"{condition.code} {condition.description}".strip()
        if short and len(label) > SHORT_LABEL:
            label = label[: SHORT_LABEL - 1].rstrip() + "…"
        choices.append((str(condition.public_id), label))
    return choices


class DraftForm(forms.Form):
    """The narrative fields and the problem list of a draft (goals and interventions are
    formsets beside it)."""

    problems = forms.MultipleChoiceField(
        label="Problem list", required=False, widget=forms.CheckboxSelectMultiple
    )
    next_review_on = forms.DateField(
        label="Next review", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, conditions: Sequence[Condition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["problems"].choices = _condition_choices(conditions)  # type: ignore[attr-defined]
        for name, label in TEXT_FIELDS:
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                help_text=TEXT_HELP.get(name, ""),
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        self.fields["next_review_on"] = self.fields.pop("next_review_on")  # after the schedule

    @staticmethod
    def initial_for(content: PlanContent) -> dict[str, Any]:
        return {
            **content.texts,
            "next_review_on": content.next_review_on,
            "problems": [problem.condition for problem in content.problems],
        }


class GoalForm(forms.Form):
    key = forms.CharField(required=False, widget=forms.HiddenInput)
    goal = forms.CharField(max_length=500, required=False, widget=forms.Textarea(ROW_TEXT))
    measure = forms.CharField(max_length=300, required=False, widget=forms.Textarea(ROW_TEXT))
    target = forms.CharField(max_length=200, required=False, widget=forms.Textarea(ROW_TEXT))
    target_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(choices=GoalStatus.choices, initial=GoalStatus.NOT_STARTED)
    condition = forms.ChoiceField(required=False, label="For")
    remove = forms.BooleanField(required=False)

    def __init__(self, *args: Any, conditions: Sequence[Condition] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["condition"].choices = [("", "—"), *_condition_choices(conditions, short=True)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("remove") or not data.get("goal"):
            return data
        if not data.get("measure"):
            self.add_error("measure", "Each goal needs a measure: how progress is measured.")
        if not data.get("target"):
            self.add_error("target", "Each goal needs a target.")
        return data

    @property
    def is_kept(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("goal")) and not data.get("remove")


class InterventionForm(forms.Form):
    key = forms.CharField(required=False, widget=forms.HiddenInput)
    intervention = forms.CharField(max_length=500, required=False, widget=forms.Textarea(ROW_TEXT))
    responsible_role = forms.ChoiceField(
        choices=[("", "—"), *ResponsibleRole.choices], required=False, label="Responsible"
    )
    responsible_name = forms.CharField(max_length=200, required=False, label="Name")
    frequency = forms.CharField(max_length=200, required=False, widget=forms.Textarea(ROW_TEXT))
    condition = forms.ChoiceField(required=False, label="For")
    remove = forms.BooleanField(required=False)

    def __init__(self, *args: Any, conditions: Sequence[Condition] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["condition"].choices = [("", "—"), *_condition_choices(conditions, short=True)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("remove") or not data.get("intervention"):
            return data
        if not data.get("responsible_role"):
            self.add_error("responsible_role", "Say who is responsible for this intervention.")
        return data

    @property
    def is_kept(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("intervention")) and not data.get("remove")


GoalFormSet = forms.formset_factory(GoalForm, extra=2)
InterventionFormSet = forms.formset_factory(InterventionForm, extra=2)


def goal_initial(content: PlanContent) -> list[dict[str, Any]]:
    return [goal.to_json() | {"target_date": goal.target_date} for goal in content.goals]


def intervention_initial(content: PlanContent) -> list[dict[str, Any]]:
    return [item.to_json() for item in content.interventions]


def content_from_forms(
    *,
    form: DraftForm,
    goals: Any,
    interventions: Any,
    previous: PlanContent,
    conditions: Sequence[Condition],
) -> PlanContent:
    """The draft's new content; a problem kept keeps its key and note.

    Raises ``ContentError`` for content the forms let through but a version may not hold.
    """
    kept = {problem.condition: problem for problem in previous.problems}
    by_id = {str(condition.public_id): condition for condition in conditions}
    problems = []
    for condition_id in form.cleaned_data["problems"]:
        previous_problem = kept.get(condition_id)
        condition = by_id[condition_id]
        problems.append(
            {
                "key": previous_problem.key if previous_problem else None,
                "condition": condition_id,
                "code": condition.code,
                "description": condition.description,
                "note": previous_problem.note if previous_problem else "",
            }
        )
    return PlanContent.parse(
        texts={name: form.cleaned_data.get(name, "") for name, _ in TEXT_FIELDS},
        next_review_on=form.cleaned_data.get("next_review_on"),
        problems=problems,
        goals=[
            {name: value for name, value in row.cleaned_data.items() if name != "remove"}
            for row in goals.forms
            if row.is_kept
        ],
        interventions=[
            {name: value for name, value in row.cleaned_data.items() if name != "remove"}
            for row in interventions.forms
            if row.is_kept
        ],
    )


class TemplateChoiceForm(forms.Form):
    """Which templates to apply (or start the plan with)."""

    templates = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Templates"
    )

    def __init__(self, *args: Any, templates: Sequence[PlanTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["templates"].choices = [(t.key, t.name) for t in templates]  # type: ignore[attr-defined]


class SignForm(forms.Form):
    substantial_revision = forms.BooleanField(
        required=False,
        label="This is a substantial revision of the plan",
        help_text="Complex CCM needs the plan established or substantially revised in the "
        "month (R-PLAN-6).",
    )
    password = forms.CharField(
        required=False,
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    totp_code = forms.CharField(
        required=False,
        label="or a code from your authenticator app",
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "code-input"}
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("password") and not data.get("totp_code"):
            raise forms.ValidationError(
                "Confirm it is you: enter your password or a code from your authenticator app."
            )
        return data


class CopyForm(forms.Form):
    given_on = forms.DateField(label="Given on", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(choices=CopyMethod.choices, label="How")
    recipient = forms.ChoiceField(choices=CopyRecipient.choices, initial=CopyRecipient.PATIENT)
    recipient_name = forms.CharField(max_length=200, required=False, label="Name (if caregiver)")
    note = forms.CharField(max_length=500, required=False)


class GoalProgressForm(forms.Form):
    goal = forms.CharField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=GoalStatus.choices)
    measured_value = forms.CharField(max_length=200, required=False, label="Latest value")
    recorded_on = forms.DateField(label="On", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(required=False, widget=forms.TextInput)


class ComplexityForm(forms.Form):
    service_month = forms.DateField(
        label="Service month",
        input_formats=["%Y-%m"],
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
    )
    mdm = forms.ChoiceField(
        choices=MedicalDecisionMaking.choices,
        widget=forms.RadioSelect,
        label="Medical decision making",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What made the decision making moderate or high this month.",
    )

    def clean_service_month(self) -> dt.date:
        value: dt.date = self.cleaned_data["service_month"]
        return value.replace(day=1)


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=500)


class TemplateForm(forms.Form):
    """A practice template; goals and interventions one per line, fields split by ``|``."""

    name = forms.CharField(max_length=120)
    icd10_prefixes = forms.CharField(
        label="ICD-10-CM prefixes",
        help_text="Comma-separated, for example: E66, Z68.4",
        max_length=300,
    )
    symptom_management = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    goals = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One goal a line: goal | measure | target | days to target (optional)",
    )
    interventions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One a line: intervention | responsible role | frequency (optional). Roles: "
        + ", ".join(ResponsibleRole.values),
    )
    sources = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="One source a line."
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def clean_icd10_prefixes(self) -> list[str]:
        raw: str = self.cleaned_data["icd10_prefixes"]
        return [part.strip() for part in raw.split(",") if part.strip()]

    def clean_goals(self) -> list[dict[str, Any]]:
        rows = []
        for number, line in enumerate(self.cleaned_data["goals"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) < 3:  # noqa: PLR2004
                raise forms.ValidationError(
                    f"Line {number}: give goal | measure | target (a goal needs a measure)."
                )
            row: dict[str, Any] = {"goal": parts[0], "measure": parts[1], "target": parts[2]}
            if len(parts) > 3 and parts[3]:  # noqa: PLR2004
                if not parts[3].isdigit():
                    raise forms.ValidationError(f"Line {number}: days to target is a number.")
                row["target_in_days"] = int(parts[3])
            rows.append(row)
        return rows

    def clean_interventions(self) -> list[dict[str, Any]]:
        rows = []
        for line in self.cleaned_data["interventions"].splitlines():
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")] + ["", ""]
            rows.append(
                {"intervention": parts[0], "responsible_role": parts[1], "frequency": parts[2]}
            )
        return rows

    @staticmethod
    def initial_for(template: Any) -> dict[str, Any]:
        return {
            "name": template.name,
            "icd10_prefixes": ", ".join(template.icd10_prefixes),
            "symptom_management": template.symptom_management,
            "goals": "\n".join(
                f"{g['goal']} | {g['measure']} | {g['target']} | {g.get('target_in_days', '')}"
                for g in template.goals
            ),
            "interventions": "\n".join(
                f"{i['intervention']} | {i['responsible_role']} | {i.get('frequency', '')}"
                for i in template.interventions
            ),
            "sources": template.sources,
            "is_active": template.is_active,
        }
