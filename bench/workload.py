"""The catalog queries real users make, each as a URL the benchmark requests.

``fragment`` queries carry the ``HX-Request`` header (a filter change in the page, answered
with the results fragment and the sidebar out of band); the others load the full page.

Every query's page of rows is read from an index. ``selective`` marks the queries whose facet
counts are narrow too, so that PostgreSQL must answer the whole page from indexes: the
guard-rail test checks that EXPLAIN shows no sequential scan of the offer table for them
(marketplace/tests/test_performance.py). A query filtering on one counted facet alone (one
provider, one GPU model) is not among them however few offers it returns: that facet's
counts ignore its own filter, so they count every offer.

Provider slugs come from bench/generate.py: "bench-cloud-001" is the largest provider, and
providers are smaller as their number grows.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Query:
    name: str
    params: str
    fragment: bool = False
    selective: bool = False

    @property
    def url(self) -> str:
        return f"/?{self.params}" if self.params else "/"


WORKLOAD = [
    Query("no filter", ""),
    Query("no filter, fragment", "", fragment=True),
    Query("one GPU in one country", "gpu=h100-sxm&country=DE", selective=True),
    Query("one GPU in one country, fragment", "gpu=h100-sxm&country=DE", fragment=True, selective=True),
    Query("rare GPU in a small country", "gpu=gb200&country=JP", selective=True),
    Query("EU with a price cap", "region_group=eu&max_price=2"),
    Query("EU with a price cap, fragment", "region_group=eu&max_price=2", fragment=True),
    Query("I need 64 GPUs now", "min_gpus=64", selective=True),
    Query("64 H100s now, most first", "gpu=h100-sxm&min_gpus=64&sort=capacity", selective=True),
    Query("provider HQ in France", "hq_country=FR"),
    Query(
        "EEA, HQ in the EU, SOC 2 + ISO 27001",
        "region_group=eea&hq_country=DE&hq_country=FR&cert=soc2&cert=iso27001",
    ),
    Query("the largest provider", "provider=bench-cloud-001"),
    Query("a small provider", "provider=bench-cloud-400"),
    Query("deep page", "page=200"),
    Query("deep page, fragment", "page=400", fragment=True),
    Query("last page", "page=999999"),
    Query("sort: price, highest first", "sort=-price"),
    Query("sort: most GPUs available", "sort=capacity"),
    Query("sort: most recently verified", "sort=freshness"),
    Query("sort: capacity, one GPU", "gpu=h200&sort=capacity"),
    Query("broad facet: spot anywhere", "pricing=spot"),
    Query("broad facet: the United States", "country=US"),
    Query("narrow facets: B200 on 8-GPU nodes in Asia", "gpu=b200&gpus_per_node=8&region_group=apac", selective=True),
    Query(
        "8x NVLink + InfiniBand under 3.00",
        "gpus_per_node=8&interconnect=nvlink&interconnect=infiniband&max_price=3",
    ),
    Query("cheap RTX 4090", "gpu=rtx-4090&max_price=0.3", selective=True),
    Query("DE or FR H100, 64 now", "country=DE&country=FR&gpu=h100-sxm&min_gpus=64&sort=price", selective=True),
    Query("APAC spot incl. stale, 100 per page", "region_group=apac&pricing=spot&stale=1&per_page=100"),
    Query("include stale offers", "stale=1"),
    Query("200 per page", "per_page=200"),
    Query("an invalid parameter", "country=XX&gpu=h100-sxm"),
]
