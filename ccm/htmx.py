"""The htmx request and response conventions the pages share."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it then swaps the answer into part of the page)."""
    return request.headers.get("HX-Request") == "true"


def hx_redirect(url: str) -> HttpResponse:
    """Send the whole page to ``url``: a plain redirect would be followed by htmx and swapped
    into the fragment that asked."""
    return HttpResponse(status=204, headers={"HX-Redirect": url})
