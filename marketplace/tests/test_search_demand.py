"""Search demand counts: written in bulk, by several processes at once."""

import re
from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace import services
from marketplace.models import SearchDemand


def test_a_flush_writes_its_counts_in_key_order_so_that_two_processes_never_deadlock(db):
    day = date(2026, 12, 5)
    searches = [("h200", "US"), ("b200", "JP"), ("h100-sxm", "DE"), ("b200", "DE")]
    for gpu, country in searches:
        services.search_demand_note(gpus=[gpu], countries=[country], empty=False, day=day)
    SearchDemand.objects.create(day=day, gpu="b200", country="DE", searches=1, empty=0)

    with CaptureQueriesContext(connection) as queries:
        services.search_demand_flush()

    updates = [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]
    written = [dict(re.findall(r"""\."(gpu|country)" = '?([\w-]+)""", sql)) for sql in updates]
    written = [(row["gpu"], row["country"]) for row in written]
    assert written == sorted(searches)  # the order every process locks the rows in
    assert SearchDemand.objects.get(gpu="b200", country="DE").searches == 2
    assert SearchDemand.objects.filter(day=day).count() == 4
