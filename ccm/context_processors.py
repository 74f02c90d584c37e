"""What every page's layout needs: the practice, the member's role and navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ccm import permissions
from ccm.navigation import navigation_for


def shell(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "demo_mode": settings.DEMO_MODE,
        "current_practice": getattr(request, "practice", None),
        "current_membership": membership,
        "user_memberships": getattr(request, "memberships", []),
        "nav_items": navigation_for(membership, request.path),
        "can_manage_practice": permissions.can_manage_practice(membership),
    }
