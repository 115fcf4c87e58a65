"""Search demand counts: written in bulk, by several processes at once."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace import services
from marketplace.models import SearchDemand


def test_a_flush_is_one_upsert_adding_to_the_counts_in_key_order(db):
    day = date(2026, 12, 5)
    searches = [("h200", "US"), ("b200", "JP"), ("h100-sxm", "DE"), ("b200", "DE")]
    for gpu, country in searches:
        services.search_demand_note(gpus=[gpu], countries=[country], empty=gpu == "h200", day=day)
    SearchDemand.objects.create(day=day, gpu="b200", country="DE", searches=1, empty=0)

    with CaptureQueriesContext(connection) as queries:
        assert services.search_demand_flush() == 4

    # One statement, whatever the number of rows; its rows in key order, the order in which any
    # process locks them (two flushes in different orders deadlocked).
    [upsert] = [query["sql"] for query in queries]
    assert [upsert.index(f"'{gpu}', '{country}'") for gpu, country in sorted(searches)] == sorted(
        upsert.index(f"'{gpu}', '{country}'") for gpu, country in searches
    )
    counts = {(row.gpu, row.country): (row.searches, row.empty) for row in SearchDemand.objects.filter(day=day)}
    assert counts == {
        ("h200", "US"): (1, 1),
        ("b200", "JP"): (1, 0),
        ("h100-sxm", "DE"): (1, 0),
        ("b200", "DE"): (2, 0),
    }
    assert services.search_demand_flush() == 0  # nothing waiting: no query
