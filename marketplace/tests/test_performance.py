"""Guard rails for the catalog's speed at scale (docs/performance.md; the timings are in bench/).

The benchmarks measure time; these tests pin down what the time depends on: a small, constant
number of queries whatever the filters and the page size, a facet summary that counts like
one GROUP BY per facet would, deep pages that hold what OFFSET pagination would, and, at 100k
offers on PostgreSQL, indexes rather than sequential scans for the selective queries.
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from bench.generate import dataset_generate
from bench.workload import WORKLOAD
from marketplace import filters
from marketplace.filters import SORTS, CatalogFilter
from marketplace.models import Offer
from marketplace.selectors import FACET_COLUMNS, _catalog_summary_query, catalog_search
from portal.testing import make_offer, queries_counted, require_postgres

pytestmark = pytest.mark.django_db

# Beyond the workload: every page size, pages deep and past the end, invalid values.
VARIANTS = [
    *((query.url, query.fragment) for query in WORKLOAD),
    ("/?per_page=10", False),
    ("/?per_page=200&sort=capacity", False),
    ("/?page=30&sort=freshness", False),
    ("/?page=999&gpu=nope&min_gpus=abc&max_price=-1&sort=sideways", False),
    ("/?region_group=eu&region_group=apac&pricing=spot&pricing=reserved&cert=soc2&stale=1", True),
]


@pytest.fixture
def marketplace(db):
    """A generated marketplace of 3,000 offers (bench/generate.py), on SQLite or PostgreSQL."""
    dataset_generate(offers=3000, seed=7)


@pytest.fixture
def catalog_cache(settings, monkeypatch):
    """The catalog's caches on, and empty."""
    settings.CATALOG_CACHE_SECONDS = 30
    monkeypatch.setattr(filters, "_choices_memo", None)
    cache.clear()
    yield
    cache.clear()


def get(client, url: str, fragment: bool = False) -> tuple[int, int]:
    """(SQL queries, matching offers) of one catalog request."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers={"HX-Request": "true"} if fragment else {})
    assert response.status_code == 200
    return queries_counted(queries.captured_queries), response.context["results"].page.paginator.count


class TestQueryCount:
    def test_every_variant_costs_the_same_few_queries(self, client, marketplace):
        counts = {url + (" (htmx)" if fragment else ""): get(client, url, fragment) for url, fragment in VARIANTS}
        with_rows = {url: queries for url, (queries, matches) in counts.items() if matches}
        without_rows = {url: queries for url, (queries, matches) in counts.items() if not matches}
        assert len(set(with_rows.values())) == 1, counts
        assert max(with_rows.values()) <= 10, counts
        # An empty page needs no row query.
        assert set(without_rows.values()) <= {max(with_rows.values()) - 1}, counts

    def test_with_the_summary_cached_a_page_costs_one_query(self, client, marketplace, catalog_cache):
        cold, _ = get(client, "/?gpu=h100-sxm&country=US")
        assert cold > 1
        # Another page, order or size of the same filters: only the rows are read.
        for url in ["/?gpu=h100-sxm&country=US&sort=capacity", "/?country=US&gpu=h100-sxm&page=2&per_page=10"]:
            assert get(client, url) == (1, get(client, "/?gpu=h100-sxm&country=US")[1])
        assert get(client, "/?gpu=h100-sxm&country=US", fragment=True)[0] == 1


def naive_summary(filterset: CatalogFilter) -> tuple[int, dict]:
    """The facet counts and the total as one GROUP BY per facet and a COUNT would give them."""
    base = Offer.objects.listed()
    counts = {}
    for name, column in FACET_COLUMNS.items():
        rows = filterset.filter_queryset(base, exclude={name}).order_by().values(column).annotate(n=Count("pk"))
        counts[name] = {row[column]: row["n"] for row in rows}
    return filterset.filter_queryset(base).count(), counts


class TestSummary:
    @pytest.mark.parametrize(
        "params",
        [
            "",
            "gpu=h100-sxm",
            "gpu=h100-sxm&country=DE",
            "gpu=h100-sxm&gpu=h200&country=US&country=DE&provider=bench-cloud-002&pricing=spot",
            "region_group=eu&max_price=2&pricing=on_demand&pricing=spot",
            "min_gpus=16&stale=1&cert=soc2",
            "provider=bench-cloud-001&provider=bench-cloud-003&hq_country=US&gpus_per_node=8",
            "gpu=gb300&country=LI",
        ],
    )
    def test_it_counts_like_one_group_by_per_facet(self, marketplace, params):
        filterset = CatalogFilter(QueryDict(params))
        summary = _catalog_summary_query(filterset=filterset, base=Offer.objects.listed())
        total, counts = naive_summary(filterset)
        assert (summary.total, summary.counts) == (total, counts)


class TestCache:
    def test_rows_are_live_while_the_counts_may_be_as_old_as_the_cache(self, client, catalog_cache, acme_fra, settings):
        make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.00"))
        assert get(client, "/?country=DE")[1] == 1
        newer = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("1.00"))
        response = client.get("/?country=DE&sort=price")
        assert f'data-offer="{newer.pk}"' in response.content.decode()
        assert response.context["results"].page.paginator.count == 1  # cached for CATALOG_CACHE_SECONDS
        cache.clear()
        assert get(client, "/?country=DE")[1] == 2

    def test_other_filters_are_counted_apart(self, client, catalog_cache, marketplace):
        assert get(client, "/?country=DE")[1] != get(client, "/?country=FR")[1]

    def test_the_cached_sidebar_follows_the_parameters(self, client, catalog_cache, marketplace):
        client.get("/?country=DE")
        html = client.get("/?country=DE&min_gpus=abc").content.decode()
        assert "Enter a whole number." in html
        html = client.get("/?country=DE&page=2").content.decode()
        assert "Enter a whole number." not in html
        assert 'value="DE" id="country-DE" checked' in html


class TestCapacity:
    @pytest.fixture
    def capacity(self, acme_fra):
        def offer(nodes):
            return make_offer(acme_fra.provider, acme_fra, nodes_available=nodes, nodes_total=None).pk

        return {"80 GPUs": offer(10), "unknown": offer(None), "sold out": offer(0), "8 GPUs": offer(1)}

    def test_unknown_counts_sort_after_every_known_one(self, client, capacity):
        page = catalog_search(params=QueryDict("sort=capacity&sold_out=1")).page
        assert [offer.pk for offer in page] == [capacity[k] for k in ["80 GPUs", "8 GPUs", "sold out", "unknown"]]

    def test_an_unknown_count_never_meets_min_gpus(self, client, capacity):
        page = catalog_search(params=QueryDict("min_gpus=1")).page
        assert sorted(offer.pk for offer in page) == sorted([capacity["80 GPUs"], capacity["8 GPUs"]])


class TestDeepPages:
    @pytest.mark.parametrize("query", [*(f"sort={sort}" for sort in SORTS), "sort=freshness&stale=1"])
    def test_every_page_holds_what_offset_pagination_would(self, marketplace, query):
        filterset = CatalogFilter(QueryDict(query))
        expected = list(
            filterset.filter_queryset(Offer.objects.listed()).order_by(*filterset.ordering).values_list("pk", flat=True)
        )
        pages = -(-len(expected) // 50)
        for number in [1, 2, pages // 2, pages // 2 + 1, pages - 1, pages]:
            page = catalog_search(params=QueryDict(f"{query}&page={number}")).page
            assert [offer.pk for offer in page] == expected[(number - 1) * 50 : number * 50], number


def sequential_scans(plan: dict) -> list[str]:
    """Sequential scans of the offer table anywhere in an EXPLAIN (FORMAT JSON) plan."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") == "marketplace_offer":
        found.append(plan.get("Filter", ""))
    for child in plan.get("Plans", []):
        found += sequential_scans(child)
    return found


class TestIndexesAt100k:
    """On PostgreSQL, with 100k generated offers (about 15 s to generate in the test's transaction)."""

    @pytest.fixture
    def big_marketplace(self, db):
        require_postgres()
        dataset_generate(offers=100_000, seed=42)

    def test_no_sequential_scan_of_offers_for_selective_queries(self, big_marketplace):
        scans = {}
        for query in WORKLOAD:
            with CaptureQueriesContext(connection) as captured:
                list(catalog_search(params=QueryDict(query.params)).page)
            offer_queries = [item["sql"] for item in captured if "marketplace_offer" in item["sql"]]
            page_query = offer_queries[-1]  # the summary comes first, the page's rows last
            checked = offer_queries if query.selective else [page_query]
            with connection.cursor() as cursor:
                for sql in checked:
                    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
                    plan = cursor.fetchone()[0][0]["Plan"]
                    if found := sequential_scans(plan):
                        scans[f"{query.name}: {sql[:60]}"] = found
        assert not scans, scans
        # ...and the check does see one where there is one.
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) SELECT count(*) FROM marketplace_offer WHERE vcpus > 0")
            assert sequential_scans(cursor.fetchone()[0][0]["Plan"])


def test_only_offers_with_their_own_verification_are_indexed_by_it(db):
    """A sync writes no unchanged offer (verification per connection): the indexes on the
    verification columns leave active synced offers out, so that a sync never maintains them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'marketplace_offer'")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'marketplace_offer'")
        definitions = [row[0] or "" for row in cursor.fetchall()]

    assert len(definitions) >= 11
    on_verification = [text for text in definitions if "last_verified_at" in text or "stale_at" in text]
    assert len(on_verification) == 3
    excluded = ("sync_connection_id IS NULL", "'stale'")  # PostgreSQL spells it ((status)::text = 'stale'::text)
    assert all(any(clause in text for clause in excluded) for text in on_verification), on_verification


def test_the_sort_indexes_hold_the_columns_every_page_filters_on(db):
    """Sold-out, NVIDIA-only, fresh, approved: every listed page filters on these, so each index a
    page's ids are read from holds them (migration 0017) and a deep page is an index-only scan."""
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'offer_listed_%'")
        definitions = dict(cursor.fetchall())

    assert len(definitions) == 9
    for name, definition in definitions.items():
        held = definition.replace(" INCLUDE ", ",")
        assert all(column in held for column in ("provider_id", "status", "nodes_available", "gpu_model_id")), name
    assert "gpus_per_node, gpu_interconnect, network" in definitions["offer_listed_price"]
    assert "(gpu_interconnect, network, pricing_type" in definitions["offer_listed_fabric_price"]
