"""``manage.py seed_demo``: add the synthetic demo data that is missing, print the logins.

Idempotent (a second run creates nothing), and refused outside demo mode: the demo logins share
one published password and must never exist in a real installation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ccm.demo_data import DemoWorld, seed


class Command(BaseCommand):
    help = "Add the synthetic demo practices, members and data that are missing (demo mode only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo runs only in demo mode (DJANGO_SETTINGS_MODULE=ccm.settings.dev "
                "or CCM_DEMO_MODE=1): its logins share a published password."
            )
        world = seed()
        if world.created:
            made = ", ".join(f"{count} {what}" for what, count in world.created.items())
            self.stdout.write(f"Demo data: created {made}.")
        else:
            self.stdout.write("Demo data: already complete, nothing changed.")
        self.stdout.write(logins_table(world))


def logins_table(world: DemoWorld) -> str:
    header = ("Email", "Password", "Practice", "Role")
    rows = [header] + [
        (login.email, login.password, login.practice, login.role) for login in world.logins
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
