"""How many GPU names of public cloud catalogs the portal resolves, read through the provider feed.

``gpu_names_coverage(rows)`` turns catalog rows (provider, instance type, GPU name, GPUs, and the
memory, form factor and interconnect each catalog states) into one open provider feed per provider,
parses each with the feed adapter as a sync would, and resolves every offer's GPU name and facts.
``manage.py gpu_names_coverage FILE`` prints the result; sync/tests/data/public_gpu_catalogs.csv
holds a dozen clouds' catalogs and sync/tests/test_gpu_identity_public_catalogs.py keeps the rate.
"""

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from marketplace.models import GpuAlias
from sync.adapters.feed import FeedAdapter


@dataclass
class Coverage:
    resolved: int = 0
    total: int = 0
    # (provider, instance type, name, status, candidates, facts) of each name not resolved
    unresolved: list[tuple] = field(default_factory=list)
    by_provider: dict[str, tuple[int, int]] = field(default_factory=dict)  # provider -> (resolved, total)
    models: dict[tuple[str, str], str] = field(default_factory=dict)  # (provider, row id) -> model name
    # (provider, row id) -> (name, the facts it resolved with) of each name that resolved
    resolved_with: dict[tuple[str, str], tuple[str, dict]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.resolved / self.total if self.total else 0.0


def catalog_rows(path: Path) -> list[dict]:
    """The CSV's rows (lines starting with # are comments)."""
    with path.open(encoding="utf-8") as file:
        return list(csv.DictReader(line for line in file if not line.startswith("#")))


def feed_of(rows: list[dict]) -> bytes:
    """One provider's catalog rows as an open provider feed (v1, with the optional GPU facts)."""
    offers = []
    for index, row in enumerate(rows):
        form = re.sub(r"^sxm\d*$", "sxm", (row.get("gpu_form_factor") or "").lower()) or None
        offers.append(
            {
                "id": f"{index}:{row['instance_type'] or row['gpu']}",
                "region": "catalog",
                "gpu": row["gpu"],
                "gpus_per_node": int(row["gpus"]),
                "gpu_memory_gb": int(row["gpu_memory_gb"]) if row.get("gpu_memory_gb") else None,
                "gpu_form_factor": form,
                "gpu_interconnect": row.get("interconnect") or None,
                "instance_type": row["instance_type"] or None,
                "pricing_type": "on_demand",
                "price_per_gpu_hour": "1.00",
                "currency": "USD",
                "nodes_available": None,
            }
        )
    document = {
        "format": "gpu-marketplace-feed",
        "version": 1,
        "regions": [{"code": "catalog", "country": "US"}],
        "offers": offers,
    }
    return json.dumps(document).encode()


def gpu_names_coverage(rows: list[dict]) -> Coverage:
    """Resolve every row's GPU name and facts, read through the feed adapter provider by provider."""
    by_provider: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_provider[row["provider"]].append(row)
    coverage = Coverage()
    for provider, provider_rows in by_provider.items():
        offers = FeedAdapter().parse(feed_of(provider_rows)).offers
        resolutions = GpuAlias.objects.resolve_facts({offer.gpu_query for offer in offers})
        resolved = 0
        for offer in offers:
            resolution = resolutions[offer.gpu_query]
            if resolution.resolved:
                resolved += 1
                coverage.models[(provider, offer.external_id)] = resolution.gpu_model.name
                coverage.resolved_with[(provider, offer.external_id)] = (offer.gpu_model_raw, resolution.facts)
            else:
                candidates = ", ".join(gpu.name for gpu in resolution.candidates)
                coverage.unresolved.append(
                    (
                        provider,
                        offer.instance_type,
                        offer.gpu_model_raw,
                        resolution.status,
                        candidates,
                        resolution.facts,
                    )
                )
        coverage.by_provider[provider] = (resolved, len(offers))
        coverage.resolved += resolved
        coverage.total += len(offers)
    return coverage
