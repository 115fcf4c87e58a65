"""One sync of one connection, as a Celery worker runs it; prints its time and peak RSS as JSON.

    python -m bench.sync_worker <connection id>

Run by bench/sync.py in a fresh process so that the peak RSS is the sync's own (plus Django's).
"""

import json
import os
import sys
import time


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Unlike getrusage's ru_maxrss, which Linux
    carries over exec from the parent, it is the process's own."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from sync.engine import sync_connection_run
    from sync.models import SyncConnection

    connection = SyncConnection.objects.select_related("provider").get(pk=int(sys.argv[1]))
    baseline = peak_rss_mb()
    started = time.perf_counter()
    run = sync_connection_run(connection=connection)
    seconds = time.perf_counter() - started
    result = {
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
        "baseline_rss_mb": baseline,
        "outcome": run.outcome if run else "skipped",
        "error": run.error if run else "",
        "created": run.created if run else 0,
        "updated": run.updated if run else 0,
        "unchanged": run.unchanged if run else 0,
        "withdrawn": run.withdrawn if run else 0,
        "skipped": run.skipped if run else 0,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
