"""ccm: the project package and tenancy core."""

from ccm.celery import app as celery_app

__all__ = ["celery_app"]
