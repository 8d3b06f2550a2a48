"""The WSGI application (gunicorn `portal.wsgi`). A process refuses to start when a system check
of the portal's fails (e.g. public development keys configured for a real chain)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.checks import refuse_to_start  # noqa: E402  (needs the apps loaded above)

refuse_to_start()
