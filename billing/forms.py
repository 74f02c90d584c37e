"""HTML input of billing: the reason a month is reopened, and the worklist's reason filter."""

from __future__ import annotations

from django import forms

from billing.presentation import REASON_LABELS


class ReopenForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        strip=True,
        label="Why reopen this month?",
        help_text="Time entries open for corrections; the next close supersedes the claims.",
    )


class ReasonFilterForm(forms.Form):
    reason = forms.ChoiceField(
        required=False,
        choices=[("", "Every reason"), *REASON_LABELS.items()],
        label="Reason",
    )
    page = forms.IntegerField(required=False, min_value=1)

    def filters(self) -> tuple[str, int]:
        """The chosen reason (``""`` for all) and page; bad input falls back to the defaults."""
        if not self.is_valid():
            return "", 1
        return self.cleaned_data["reason"] or "", self.cleaned_data["page"] or 1
