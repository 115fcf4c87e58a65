"""A mock of Shadeform's ``GET /v1/instances/types``, for the demo (only when DEMO_ENABLED).

It answers in the real API's format (see sync/adapters/shadeform.py), so a sync connection
of kind "shadeform" with the base URL ``http://127.0.0.1:8000/demo/api/shadeform`` works with
the adapter unchanged. Each region's ``available`` flag changes every few minutes, as a pure
function of the time (like feeds.py). The clouds, types and prices are modelled on what
Shadeform lists; this is demo data, not a quote.

Like the real API it wants the ``X-API-KEY`` header; any non-empty key is accepted.
"""

from datetime import datetime

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from demo.feeds import _unit

STEP_SECONDS = 240
AVAILABLE_CHANCE = 0.6

REGIONS = {
    "dulles-usa-1": "US, Dulles, VA",
    "houston-usa-1": "US, Houston, TX",
    "kansascity-usa-1": "US, Kansas City, KS",
    "desmoines-usa-1": "US, Des Moines, IA",
    "canada-1": "CA, Montreal, QC",
    "norway-1": "NO, Oslo",
    "helsinki-finland-1": "FI, Helsinki",
    "helsinki-finland-2": "FI, Helsinki",
    "reykjanesbaer-iceland-1": "IS, Reykjanesbaer",
}

# cloud, shade type, cloud type, GPU type, interconnect, NVLink, GPUs, VRAM/GPU, vCPUs, RAM GB,
# storage GB, price in cents per instance-hour, regions
TYPES = [
    ("lambdalabs", "H100_sxm5x8", "gpu_8x_h100_sxm5", "H100", "sxm5", True, 8, 80, 208, 1800, 24780, 2392,
     ("dulles-usa-1", "houston-usa-1")),
    ("lambdalabs", "H100", "gpu_1x_h100_pcie", "H100", "pcie", False, 1, 80, 26, 200, 1024, 249,
     ("dulles-usa-1",)),
    ("hyperstack", "H100_sxm5x8", "n3-H100-SXM5x8", "H100", "sxm5", True, 8, 80, 192, 1800, 32000, 2400,
     ("canada-1", "norway-1")),
    ("hyperstack", "A6000", "n3-RTX-A6000x1", "A6000", "pcie", False, 1, 48, 8, 58, 100, 50,
     ("canada-1", "norway-1")),
    ("datacrunch", "A100_80G_sxm4x8", "8A100.176V", "A100_80G", "sxm4", True, 8, 80, 176, 960, 2000, 1032,
     ("helsinki-finland-1", "reykjanesbaer-iceland-1")),
    ("datacrunch", "H200_sxm5x8", "8H200.141S.176V", "H200", "sxm5", True, 8, 141, 176, 1480, 7680, 2872,
     ("helsinki-finland-2",)),
    ("massedcompute", "L40S", "gpu_1x_l40s", "L40S", "pcie", False, 1, 48, 16, 64, 500, 110,
     ("kansascity-usa-1", "desmoines-usa-1")),
    ("massedcompute", "A6000x4", "gpu_4x_a6000", "A6000", "pcie", False, 4, 48, 48, 256, 1000, 228,
     ("kansascity-usa-1",)),
]  # fmt: skip


def instance_types(*, now: datetime) -> list[dict]:
    """The ``instance_types`` list of ``/v1/instances/types`` at ``now``."""
    step = int(now.timestamp() // STEP_SECONDS)
    items = []
    for cloud, shade, cloud_type, gpu, link, nvlink, gpus, vram, vcpus, memory, storage, cents, regions in TYPES:
        items.append(
            {
                "cloud": cloud,
                "shade_instance_type": shade,
                "cloud_instance_type": cloud_type,
                "configuration": {
                    "memory_in_gb": memory,
                    "storage_in_gb": storage,
                    "vcpus": vcpus,
                    "num_gpus": gpus,
                    "gpu_type": gpu,
                    "interconnect": link,
                    "nvlink": nvlink,
                    "vram_per_gpu_in_gb": vram,
                    "os_options": ["ubuntu22.04_cuda12.4_shade_os", "ubuntu20.04_cuda12.0_shade_os"],
                    "gpu_manufacturer": "nvidia",
                },
                "hourly_price": cents,
                "deployment_type": "vm",
                "availability": [
                    {
                        "region": code,
                        "available": _unit("shadeform", cloud, cloud_type, code, step) < AVAILABLE_CHANCE,
                        "display_name": REGIONS[code],
                    }
                    for code in regions
                ],
                "boot_time": {"min_boot_in_sec": 180, "max_boot_in_sec": 600},
            }
        )
    return items


@require_GET
@never_cache
def instance_types_view(request: HttpRequest) -> JsonResponse:
    """``GET /v1/instances/types`` in Shadeform's format; 401 without an ``X-API-KEY``."""
    if not request.headers.get("X-API-KEY", "").strip():
        return JsonResponse({"error": "Unauthorized: missing or invalid X-API-KEY header"}, status=401)
    return JsonResponse({"instance_types": instance_types(now=timezone.now())})
