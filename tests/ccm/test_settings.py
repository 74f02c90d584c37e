"""Where sessions and the cache live, as the settings decide from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parents[2]
PRINT_STORES = (
    "import json; from django.conf import settings; "
    "print(json.dumps([settings.SESSION_ENGINE, settings.CACHES]))"
)


def _stores(**environment: str) -> list[object]:
    """SESSION_ENGINE and CACHES of ``ccm.settings.dev`` under ``environment``."""
    result = subprocess.run(
        [sys.executable, "-c", PRINT_STORES],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ccm.settings.dev",
            "CELERY_BROKER_URL": "",
            **environment,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(result.stdout))


def test_with_redis_sessions_and_cache_live_in_redis():
    # when
    stores = _stores(REDIS_URL="redis://cache.internal:6379/0")
    # then
    assert stores == [
        "django.contrib.sessions.backends.cache",
        {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://cache.internal:6379/0",
                "KEY_PREFIX": "ccm",
            }
        },
    ]


def test_the_demo_without_redis_keeps_sessions_in_the_database():
    # when the launcher chose the folder broker (no Redis server)
    stores = _stores(CELERY_BROKER_URL="filesystem://")
    # then
    assert stores == [
        "django.contrib.sessions.backends.db",
        {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    ]


@pytest.mark.parametrize("path", ["/", "/time/worklist/"])
def test_a_signed_in_request_reads_and_writes_no_session_row(client_for, coordinator, path):
    # given a member who opened a page
    client = client_for(coordinator)
    client.get(path)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    # then
    assert response.status_code == 200
    assert [query["sql"] for query in queries if "django_session" in query["sql"]] == []
