"""A mock of Vast.ai's offers search (``/api/v0/bundles/``), for the demo (only when DEMO_ENABLED).

It answers in the real API's format (see sync/adapters/vastai.py), so a sync connection of
kind "vastai" with the base URL ``http://127.0.0.1:8000/demo/api/vastai`` works with the adapter
unchanged. It takes the query as the CLI sends it (a POST whose JSON body is the query) or as
``GET ?q=<json>``, and honours its ``rented`` filter; other filters are ignored.

A small fleet of hosts' machines, each offered whole and, when it has several GPUs, as halves.
Like the demo feeds (feeds.py), everything moving is a pure function of the time: every few
minutes a machine is rented by someone else or comes back (so with ``rented: false`` its offers
disappear and reappear), minimum bids move hourly, and the offer id changes daily, as when a
host re-lists a machine, while the machine id stays. Demo data, not a quote.

Like the real API it wants an API key, as ``Authorization: Bearer <key>`` or ``?api_key=<key>``;
any non-empty key is accepted.
"""

import json
import math
from datetime import datetime

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from demo.api_keys import bearer_or_query_key
from demo.feeds import _unit

STEP_SECONDS = 180
RENTED_CHANCE = 0.3

# machine id, GPU name as Vast spells it, GPUs, GPU RAM (MiB), geolocation, vCPUs, RAM (MiB),
# disk GB, on-demand $/hour for the whole machine, NVLink bandwidth
MACHINES = [
    (10234, "RTX 4090", 1, 24564, "Quebec, CA", 16, 64387, 120, 0.35, 0.0),
    (10871, "RTX 4090", 4, 24564, "Texas, US", 64, 257698, 1000, 1.44, 0.0),
    (11502, "RTX 4090", 8, 24564, "Guangdong, CN", 128, 515396, 2000, 2.64, 0.0),
    (12990, "RTX 3090", 2, 24576, "Bavaria, DE", 24, 128843, 400, 0.36, 56.2),
    (13777, "RTX 5090", 1, 32607, "Oregon, US", 24, 96630, 250, 0.62, 0.0),
    (20411, "H100 SXM", 8, 81559, "Texas, US", 128, 2063731, 4096, 19.2, 395.5),
    (20588, "H100 SXM", 8, 81559, "North Holland, NL", 192, 2063731, 8192, 18.4, 395.5),
    (21345, "H100 PCIE", 2, 81559, "Ontario, CA", 48, 257698, 800, 3.9, 0.0),
    (22040, "H200", 8, 143771, "Virginia, US", 192, 2063731, 8192, 26.4, 430.1),
    (30777, "A100 SXM4", 8, 40960, "SE", 128, 1031865, 2000, 6.4, 235.2),
    (31002, "A100 SXM4", 4, 81920, "Utah, US", 64, 515396, 1000, 4.8, 235.2),
    (32555, "A100 PCIE", 1, 81920, "Bavaria, DE", 16, 128843, 250, 1.07, 0.0),
    (40110, "L40S", 4, 46068, "Île-de-France, FR", 48, 386547, 1000, 3.2, 0.0),
    (41200, "RTX A6000", 2, 49140, "Norway", 32, 257698, 500, 0.98, 112.5),
    (42017, "RTX 6000Ada", 4, 49140, "Tokyo, JP", 64, 515396, 1000, 3.0, 0.0),
    (50331, "A40", 2, 46068, "England, GB", 32, 257698, 500, 0.8, 112.5),
]


def _rented(machine_id: int, at: datetime) -> bool:
    step = int(at.timestamp() // STEP_SECONDS)
    return _unit(machine_id, step, "rented") < RENTED_CHANCE


def _offer(machine: tuple, num_gpus: int, at: datetime) -> dict:
    machine_id, gpu_name, gpus, gpu_ram, geolocation, vcpus, ram, disk, dph, nvlink = machine
    share = num_gpus / gpus
    day = int(at.timestamp() // 86400)
    storage = round(0.15 / 730 * 5, 6)  # 5 GB of allocated storage at $0.15/GB/month, per hour
    hourly = 0.7 + 0.1 * math.sin(2 * math.pi * (at.timestamp() // 3600) / 24 + 6 * _unit(machine_id, "bid"))
    rented = _rented(machine_id, at)
    return {
        # A new listing id every day, as when a host re-lists: the adapter keys on the machine.
        "id": machine_id * 1000 + num_gpus * 100 + day % 100,
        "ask_contract_id": machine_id * 1000 + num_gpus * 100 + day % 100,
        "machine_id": machine_id,
        "host_id": 80000 + machine_id % 997,
        "gpu_name": gpu_name,
        "num_gpus": num_gpus,
        "gpu_ram": gpu_ram,
        "gpu_total_ram": gpu_ram * num_gpus,
        "gpu_frac": round(share, 4),
        "cpu_cores": vcpus * 2,
        "cpu_cores_effective": round(vcpus * share, 1),
        "cpu_ram": round(ram * share),
        "disk_space": round(disk * share, 1),
        "dph_base": round(dph * share, 4),
        "dph_total": round(dph * share + storage, 6),
        "min_bid": round(dph * share * hourly, 4),
        "storage_cost": 0.15,
        "geolocation": geolocation,
        "reliability2": round(0.95 + 0.05 * _unit(machine_id, "reliability"), 4),
        "verification": "verified",
        "verified": True,
        "rentable": True,
        "rented": rented,
        "external": False,
        "bw_nvlink": nvlink if num_gpus > 1 else 0.0,
        "cuda_max_good": 12.8,
        "driver_version": "570.133.07",
        "inet_up": round(500 + 500 * _unit(machine_id, "up"), 1),
        "inet_down": round(500 + 500 * _unit(machine_id, "down"), 1),
        "start_date": float(day * 86400),
        "end_date": float((day + 60) * 86400),
    }


def vast_answer(*, now: datetime, include_rented: bool = False) -> dict:
    """``{"offers": [...]}`` at ``now``: each machine whole and, with several GPUs, as halves."""
    offers = []
    for machine in MACHINES:
        gpus = machine[2]
        for num_gpus in sorted({gpus, gpus // 2} - {0}, reverse=True):
            offer = _offer(machine, num_gpus, now)
            if include_rented or not offer["rented"]:
                offers.append(offer)
    offers.sort(key=lambda offer: offer["dph_total"])
    return {"offers": offers}


def _query(request: HttpRequest) -> dict:
    text = request.body if request.method == "POST" else request.GET.get("q", "")
    try:
        query = json.loads(text or "{}")
    except ValueError:
        return {}
    return query if isinstance(query, dict) else {}


@csrf_exempt
@require_http_methods(["GET", "POST"])
@never_cache
def bundles_view(request: HttpRequest) -> JsonResponse:
    if not bearer_or_query_key(request):
        return JsonResponse({"success": False, "error": "auth_error", "msg": "Invalid or missing API key."}, status=401)
    rented = _query(request).get("rented")
    include_rented = not (isinstance(rented, dict) and rented.get("eq") is False)
    return JsonResponse(vast_answer(now=timezone.now(), include_rented=include_rented))
