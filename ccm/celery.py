"""The Celery app. Configuration lives in settings (``CELERY_*``), the beat schedule too."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccm.settings.base")

app = Celery("ccm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
