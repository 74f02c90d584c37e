"""Base class for management commands that work on one practice's data."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ccm.models import Practice
from ccm.tenancy import practice_context


class PracticeCommand(BaseCommand):
    """Adds ``--practice SLUG`` and runs ``handle_practice`` inside that practice's context."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--practice", required=True, help="the practice's slug")

    def handle(self, *args: Any, **options: Any) -> str | None:
        slug = options.pop("practice")  # handle_practice gets the Practice itself
        practice = Practice.objects.filter(slug=slug).first()
        if practice is None:
            raise CommandError(f"No practice with slug {slug!r}.")
        with practice_context(practice.pk):
            return self.handle_practice(practice, **options)

    def handle_practice(self, practice: Practice, **options: Any) -> str | None:
        raise NotImplementedError  # pragma: no cover  (abstract)
