"""OpenAPI naming for house-style views.

Every API view nests its own ``InputSerializer``/``OutputSerializer``; drf-spectacular would
name them all "Input"/"Output" and merge unrelated shapes. Components are named after the
view instead: ``MeApi.OutputSerializer`` → ``MeOutput``.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema


class PracticeAutoSchema(AutoSchema):
    def get_serializer_name(
        self, serializer: Any, direction: Literal["request", "response"]
    ) -> str:
        name = str(super().get_serializer_name(serializer, direction))
        qualified = type(serializer).__qualname__
        if "." in qualified:
            owner = qualified.split(".")[0]
            for suffix in ("ViewSet", "Api", "View"):
                if owner.endswith(suffix):
                    owner = owner[: -len(suffix)]
                    break
            return f"{owner}{name}"
        return name
