"""A mock of RunPod's GraphQL API (``POST /graphql``), for the demo (only when DEMO_ENABLED).

It answers the ``gpuTypes`` + ``dataCenters`` query of sync/adapters/runpod.py in RunPod's
real format, so a sync connection of kind "runpod" with the base URL
``http://127.0.0.1:8000/demo/api/runpod`` works with the adapter unchanged. It is no GraphQL
server: it checks that the query asks for ``gpuTypes`` and always answers the adapter's fields.

Like the demo feeds (feeds.py), stock is a pure function of the time: every few minutes each
(data center, GPU type) moves between High, Medium, Low and sold out (null), the same in every
process; spot prices move hourly. Types and prices are modelled on RunPod's public price list;
this is demo data, not a quote.

Like the real API it wants an API key, as ``Authorization: Bearer <key>`` or ``?api_key=<key>``;
any non-empty key is accepted.
"""

import json
import math
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from demo.api_keys import bearer_or_query_key
from demo.feeds import _unit

STEP_SECONDS = 240
STOCK_LEVELS = ("High", "Medium", "Low", None)  # None: sold out in that data center

# id, display name, memory GB, secure $/GPU-h, community $/GPU-h (0: not on community),
# secure spot, community spot (None: no spot), min vCPUs and RAM GB of a 1-GPU pod
GPU_TYPES = [
    ("NVIDIA B200", "B200", 180, "5.99", "0", "3.59", None, 28, 180),
    ("NVIDIA H200", "H200 SXM", 141, "3.99", "3.59", "2.29", None, 12, 188),
    ("NVIDIA H100 80GB HBM3", "H100 SXM", 80, "2.99", "2.69", "1.75", "1.49", 16, 125),
    ("NVIDIA H100 PCIe", "H100 PCIe", 80, "2.39", "1.99", "1.25", "1.05", 16, 176),
    ("NVIDIA H100 NVL", "H100 NVL", 94, "2.79", "2.59", "1.45", None, 16, 94),
    ("NVIDIA A100-SXM4-80GB", "A100 SXM", 80, "1.74", "1.39", "1.05", "0.89", 16, 117),
    ("NVIDIA A100 80GB PCIe", "A100 PCIe", 80, "1.64", "1.19", None, "0.82", 8, 117),
    ("NVIDIA L40S", "L40S", 48, "0.86", "0.79", "0.26", "0.26", 12, 62),
    ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada", 48, "0.77", "0.74", "0.45", "0.39", 10, 62),
    ("NVIDIA RTX A6000", "RTX A6000", 48, "0.49", "0.33", "0.25", "0.25", 8, 50),
    ("NVIDIA GeForce RTX 4090", "RTX 4090", 24, "0.69", "0.34", "0.35", "0.20", 5, 29),
    ("NVIDIA GeForce RTX 5090", "RTX 5090", 32, "0.94", "0.69", "0.65", None, 6, 46),
]

# id, location as RunPod words it, the GPU types hosted there
DATA_CENTERS = [
    ("EU-RO-1", "Europe", ("NVIDIA H100 80GB HBM3", "NVIDIA A100 80GB PCIe", "NVIDIA GeForce RTX 4090", "NVIDIA L40S")),
    ("EUR-IS-1", "Europe", ("NVIDIA GeForce RTX 4090", "NVIDIA RTX A6000", "NVIDIA RTX 6000 Ada Generation")),
    ("EU-SE-1", "Europe", ("NVIDIA A100-SXM4-80GB", "NVIDIA H100 PCIe", "NVIDIA GeForce RTX 5090")),
    ("US-TX-3", "United States", ("NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA B200", "NVIDIA H100 NVL")),
    ("US-GA-1", "United States", ("NVIDIA GeForce RTX 4090", "NVIDIA L40S", "NVIDIA RTX A6000")),
    ("CA-MTL-1", "Canada", ("NVIDIA A100 80GB PCIe", "NVIDIA H100 PCIe", "NVIDIA RTX 6000 Ada Generation")),
    ("AP-JP-1", "Asia", ("NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 5090")),
]


def stock_status(data_center: str, gpu_id: str, at: datetime) -> str | None:
    """High, Medium, Low or None (sold out) for one GPU type in one data center at ``at``."""
    step = int(at.timestamp() // STEP_SECONDS)
    return STOCK_LEVELS[int(_unit(data_center, gpu_id, step, "stock") * len(STOCK_LEVELS))]


def _spot(price: str | None, gpu_id: str, at: datetime) -> float | None:
    if price is None:
        return None
    drift = 0.08 * math.sin(2 * math.pi * (at.timestamp() // 3600) / 24 + 6 * _unit(gpu_id, "spot"))
    return float((Decimal(price) * Decimal(str(1 + round(drift, 4)))).quantize(Decimal("0.01"), ROUND_HALF_UP))


def runpod_answer(*, now: datetime) -> dict:
    """The GraphQL answer ``{"data": {"gpuTypes": [...], "dataCenters": [...]}}`` at ``now``."""
    data_centers = [
        {
            "id": code,
            "name": code,
            "location": location,
            "gpuAvailability": [
                {"gpuTypeId": gpu_id, "displayName": _display(gpu_id), "stockStatus": stock_status(code, gpu_id, now)}
                for gpu_id in hosted
            ],
        }
        for code, location, hosted in DATA_CENTERS
    ]
    gpu_types = []
    for gpu_id, display, memory, secure, community, secure_spot, community_spot, vcpus, ram in GPU_TYPES:
        levels = [stock_status(code, gpu_id, now) for code, _, hosted in DATA_CENTERS if gpu_id in hosted]
        best = next((level for level in STOCK_LEVELS if level in levels), None)
        spot_prices = [p for p in (_spot(secure_spot, gpu_id, now), _spot(community_spot, gpu_id, now)) if p]
        on_demand = [float(p) for p in (secure, community) if float(p)]
        gpu_types.append(
            {
                "id": gpu_id,
                "displayName": display,
                "manufacturer": "Nvidia",
                "memoryInGb": memory,
                "secureCloud": True,
                "communityCloud": float(community) > 0,
                "securePrice": float(secure),
                "communityPrice": float(community),
                "secureSpotPrice": _spot(secure_spot, gpu_id, now),
                "communitySpotPrice": _spot(community_spot, gpu_id, now),
                "lowestPrice": {
                    "minimumBidPrice": min(spot_prices) if spot_prices else None,
                    "uninterruptablePrice": min(on_demand),
                    "minVcpu": vcpus,
                    "minMemory": ram,
                    "stockStatus": best,
                },
            }
        )
    return {"data": {"gpuTypes": gpu_types, "dataCenters": data_centers}}


def _display(gpu_id: str) -> str:
    return next(display for id_, display, *_ in GPU_TYPES if id_ == gpu_id)


@csrf_exempt
@require_POST
@never_cache
def graphql_view(request: HttpRequest) -> JsonResponse:
    if not bearer_or_query_key(request):
        return JsonResponse({"errors": [{"message": "Unauthorized: an API key is required."}]}, status=401)
    try:
        query = json.loads(request.body).get("query")
    except (ValueError, AttributeError):
        query = None
    if not isinstance(query, str) or "gpuTypes" not in query:
        return JsonResponse(
            {"errors": [{"message": "This demo answers only the gpuTypes / dataCenters query."}]}, status=400
        )
    return JsonResponse(runpod_answer(now=timezone.now()))
