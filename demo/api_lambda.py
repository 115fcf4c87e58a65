"""A mock of Lambda Cloud's ``GET /api/v1/instance-types``, for the demo (only when DEMO_ENABLED).

It answers in the real API's format (see sync/adapters/lambda_cloud.py), so a sync
connection of kind "lambda" with the base URL ``http://127.0.0.1:8000/demo/api/lambda`` works
with the adapter unchanged. Like the demo feeds (feeds.py), availability is a pure function of
the time: every few minutes each (type, region) gets capacity or loses it, the same in every
process, so synced offers appear, sell out and come back. Types and list prices are modelled on
Lambda's public price list; this is demo data, not a quote.

Like the real API it wants an API key, as ``Authorization: Bearer <key>`` or HTTP Basic with the
key as user name; any non-empty key is accepted.
"""

from datetime import datetime

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from demo.api_keys import bearer_or_basic_key
from demo.feeds import _unit

STEP_SECONDS = 300
CAPACITY_CHANCE = 0.55

REGION_DESCRIPTIONS = {
    "us-east-1": "Virginia, USA",
    "us-east-3": "Washington DC, USA",
    "us-midwest-1": "Illinois, USA",
    "us-south-1": "Texas, USA",
    "us-south-2": "North Texas, USA",
    "us-west-1": "California, USA",
    "us-west-2": "Arizona, USA",
    "us-west-3": "Utah, USA",
    "europe-central-1": "Germany",
    "me-west-1": "Israel",
    "asia-south-1": "India",
    "asia-northeast-1": "Osaka, Japan",
    "asia-northeast-2": "Tokyo, Japan",
}

# name, GPU description, GPUs, price in cents per instance-hour, vCPUs, RAM GiB, storage GiB, regions
TYPES = [
    ("gpu_8x_b200_sxm6", "B200 (180 GB SXM6)", 8, 3992, 208, 2900, 22528, ("us-east-3", "us-south-2")),
    ("gpu_1x_b200_sxm6", "B200 (180 GB SXM6)", 1, 499, 26, 360, 2867, ("us-east-3",)),
    ("gpu_8x_h100_sxm5", "H100 (80 GB SXM5)", 8, 2392, 208, 1800, 24780, ("us-east-1", "us-south-1", "us-west-3")),
    ("gpu_4x_h100_sxm5", "H100 (80 GB SXM5)", 4, 1236, 104, 900, 11264, ("us-east-1", "us-south-1")),
    ("gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", 1, 329, 26, 225, 2867, ("us-east-1", "us-south-1", "us-west-3")),
    ("gpu_1x_h100_pcie", "H100 (80 GB PCIe)", 1, 249, 26, 200, 1024, ("us-west-3", "us-midwest-1")),
    ("gpu_1x_gh200", "GH200 (96 GB)", 1, 149, 64, 432, 4096, ("us-east-3", "us-west-1")),
    ("gpu_8x_a100_80gb_sxm4", "A100 (80 GB SXM4)", 8, 1432, 240, 1800, 19500, ("us-midwest-1", "us-east-1")),
    ("gpu_8x_a100", "A100 (40 GB SXM4)", 8, 1032, 124, 1800, 5800, ("us-west-2", "europe-central-1", "me-west-1")),
    ("gpu_1x_a100_sxm4", "A100 (40 GB SXM4)", 1, 129, 30, 200, 512, ("us-east-1", "asia-south-1", "us-west-2")),
    ("gpu_1x_a6000", "A6000 (48 GB)", 1, 80, 14, 100, 200, ("us-west-1", "us-south-1", "asia-northeast-1")),
    ("gpu_1x_a10", "A10 (24 GB PCIe)", 1, 75, 30, 200, 1400, ("us-east-1", "us-west-1", "asia-northeast-2")),
    ("gpu_8x_v100", "Tesla V100 (16 GB)", 8, 440, 92, 448, 5800, ("us-south-1",)),
    ("cpu_4x_general", "", 0, 20, 4, 16, 100, ("us-east-1",)),
]


def instance_types(*, now: datetime) -> dict:
    """The ``data`` object of ``/api/v1/instance-types`` at ``now``."""
    step = int(now.timestamp() // STEP_SECONDS)
    data = {}
    for name, gpu, gpus, cents, vcpus, memory, storage, regions in TYPES:
        with_capacity = [code for code in regions if _unit("lambda", name, code, step) < CAPACITY_CHANCE]
        data[name] = {
            "instance_type": {
                "name": name,
                "description": f"{gpus}x {gpu}" if gpus else f"{vcpus}x CPU General ({memory} GiB)",
                "gpu_description": gpu,
                "price_cents_per_hour": cents,
                "specs": {"vcpus": vcpus, "memory_gib": memory, "storage_gib": storage, "gpus": gpus},
            },
            "regions_with_capacity_available": [
                {"name": code, "description": REGION_DESCRIPTIONS[code]} for code in with_capacity
            ],
        }
    return data


@require_GET
@never_cache
def instance_types_view(request: HttpRequest) -> JsonResponse:
    """``GET /api/v1/instance-types``, in Lambda's format; 401 in Lambda's error format without a key."""
    if not bearer_or_basic_key(request):
        return JsonResponse(
            {
                "error": {
                    "code": "global/invalid-api-key",
                    "message": "API key was invalid, expired, or deleted.",
                    "suggestion": "Check your API key or create a new one, then try again.",
                }
            },
            status=401,
        )
    return JsonResponse({"data": instance_types(now=timezone.now())})
