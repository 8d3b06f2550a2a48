import os

from celery import Celery
from celery.signals import worker_init

import portal.broker  # noqa: F401  registers the safefs:// transport in every process
import portal.logs  # noqa: F401  one log line per task, with its ids

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_to_start(**_):
    """A worker (and beat) refuses to start on the same checks as the web processes."""
    from portal.checks import refuse_to_start

    refuse_to_start()
