"""gunicorn's settings beyond the command line (deploy/entrypoint.sh).

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metrics there and /metrics adds them
up; a worker that exits must be marked dead so that its gauges stop counting.
"""

import os


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
