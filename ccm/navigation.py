"""The layout's navigation per role. Each domain adds its pages here as they arrive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import NoReverseMatch, reverse

from ccm import permissions

if TYPE_CHECKING:
    from ccm.models import Membership


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    url_name: str
    allowed: Callable[[Membership | None], bool]


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Dashboard", "dashboard", permissions.can_view_patients),
    NavItem("Patients", "patient_list", permissions.can_view_patients),
    NavItem("Eligibility", "patient_eligibility", permissions.can_view_patients),
    NavItem("Import", "patient_import", permissions.can_edit_clinical_record),
    NavItem("Worklist", "time_worklist", permissions.can_view_patients),
    NavItem("Care plans", "care_plan_review_queue", permissions.can_draft_care_plan),
    NavItem("Billing", "billing_months", permissions.can_view_billing),
    NavItem("Members", "practice_members", permissions.can_manage_practice),
    NavItem("Time settings", "time_settings", permissions.can_manage_practice),
    NavItem("Audit log", "audit_log", permissions.can_view_audit_log),
)


def navigation_for(membership: Membership | None, path: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    if membership is None:
        return items
    for item in NAV_ITEMS:
        if not item.allowed(membership):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": item.label, "url": url, "active": active})
    return items
