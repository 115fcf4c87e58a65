"""Settings for the test suite: the portal's own, with the opt-ins that only tests and the local
demo may have. Set in the environment (before the settings are read) so that the processes tests
start (Celery workers, manage.py) inherit them."""

import os

os.environ.setdefault("SYNC_ALLOW_PRIVATE_ADDRESSES", "true")  # tests sync from servers on 127.0.0.1
os.environ.setdefault("DEMO_ENABLED", "true")
# Tasks a test enqueues (outside captureOnCommitCallbacks) go nowhere, unless CI names a Redis.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from portal.settings import *  # noqa: E402, F403
