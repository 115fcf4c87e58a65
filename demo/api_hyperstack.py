"""A mock of Hyperstack's Infrahub API (flavors, pricebook, GPU stock), for the demo.

Served only when DEMO_ENABLED, in the real API's formats (see sync/adapters/hyperstack.py):
``GET /core/flavors``, ``GET /pricebook`` and ``GET /core/stocks`` under the base URL
``http://127.0.0.1:8000/demo/api/hyperstack``, so a sync connection of kind "hyperstack" with
that base URL works with the adapter unchanged.

Like the demo feeds (feeds.py), stock is a pure function of the time: every few minutes each
(region, GPU model) gets a new number of free machines per size, sometimes none (the flavors'
``stock_available`` turns false), the same in every process. Models and list prices are modelled
on Hyperstack's public price list; this is demo data, not a quote.

Like the real API it wants the API key in an ``api_key`` header, and any non-empty key is
accepted. One limit: Django's runserver (and gunicorn 22+, nginx by default) drop request headers
whose name has an underscore, so behind them the mock never sees ``api_key``. It therefore refuses
an empty key it can see, but serves a request in which the header is absent: it cannot tell "not
sent" from "dropped by the server".
"""

from datetime import datetime

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from demo.feeds import _unit

STEP_SECONDS = 300
SIZES = (1, 2, 4, 8)

# GPU model as Hyperstack names it, flavor name stem, $/GPU-hour (list), per-GPU vCPUs, RAM GB, ephemeral GB
MODELS = {
    "H100-80G-PCIe": ("n3-H100", "1.90", 28, 180, 750),
    "H100-80G-PCIe-NVLink": ("n3-H100-NVLink", "1.95", 31, 180, 750),
    "H100-80G-SXM5": ("n3-H100-SXM5", "2.40", 24, 225, 4000),
    "A100-80G-PCIe": ("n3-A100", "1.35", 28, 120, 750),
    "L40": ("n3-L40", "1.00", 28, 58, 725),
    "RTX-A6000": ("n1-RTX-A6000", "0.50", 8, 57, 0),
}
# region -> the models it hosts and the flavor sizes of each
REGIONS = {
    "CANADA-1": {"H100-80G-PCIe": SIZES, "A100-80G-PCIe": SIZES, "RTX-A6000": (1, 2, 4, 8)},
    "NORWAY-1": {"H100-80G-PCIe-NVLink": (8,), "A100-80G-PCIe": SIZES, "L40": (1, 2, 4, 8)},
    "US-1": {"H100-80G-SXM5": (8,), "H100-80G-PCIe": (1, 2, 4, 8), "L40": (1, 8)},
}
# Things the pricebook also prices, which the adapter must step over.
OTHER_PRICES = [("PublicIP", "0.00672"), ("Cloud-SSD", "0.000097"), ("vCPU (cpu-only-flavors)", "0.0075")]


def free_machines(region: str, model: str, size: int, at: datetime) -> int:
    """How many ``size``-GPU machines of ``model`` are free in ``region`` at ``at`` (often 0)."""
    step = int(at.timestamp() // STEP_SECONDS)
    if _unit(region, model, step, "sold-out") < 0.2:
        return 0
    return int(_unit(region, model, size, step, "count") * 48 / size)


def flavors_answer(*, now: datetime) -> dict:
    data = []
    flavor_id = 100
    for region, models in REGIONS.items():
        for model, sizes in models.items():
            stem, _, vcpus, ram, ephemeral = MODELS[model]
            flavors = []
            for size in sizes:
                flavor_id += 1
                flavors.append(
                    {
                        "id": flavor_id,
                        "name": f"{stem}x{size}",
                        "display_name": None,
                        "region_name": region,
                        "cpu": vcpus * size,
                        "ram": float(ram * size),
                        "disk": 100,
                        "ephemeral": ephemeral * size,
                        "gpu": model,
                        "gpu_count": size,
                        "stock_available": free_machines(region, model, size, now) > 0,
                        "created_at": "2024-05-13T09:12:44",
                        "labels": [],
                        "features": {},
                    }
                )
            data.append({"gpu": model, "region_name": region, "flavors": flavors})
        data.append(
            {
                "gpu": "",
                "region_name": region,
                "flavors": [
                    {
                        "id": flavor_id + 1000,
                        "name": "n1-cpu-medium",
                        "display_name": None,
                        "region_name": region,
                        "cpu": 8,
                        "ram": 16.0,
                        "disk": 100,
                        "ephemeral": 0,
                        "gpu": "",
                        "gpu_count": 0,
                        "stock_available": True,
                        "created_at": "2024-05-13T09:12:44",
                        "labels": [],
                        "features": {},
                    }
                ],
            }
        )
    return {"status": True, "message": "Getting flavors success", "data": data}


def pricebook_answer() -> list[dict]:
    prices = [(model, price) for model, (_, price, *_) in MODELS.items()] + OTHER_PRICES
    return [
        {
            "id": index,
            "name": name,
            "value": value,
            "original_value": value,
            "discount_applied": False,
            "start_time": None,
            "end_time": None,
        }
        for index, (name, value) in enumerate(prices, start=1)
    ]


def stocks_answer(*, now: datetime) -> dict:
    stocks = []
    for region, models in REGIONS.items():
        entries = []
        for model in models:
            configurations = {f"{size}x": free_machines(region, model, size, now) for size in (*SIZES, 10)}
            free_gpus = configurations["1x"]
            entries.append(
                {
                    "model": model,
                    "available": "200+" if free_gpus >= 200 else ("10+" if free_gpus >= 10 else str(free_gpus)),
                    "planned_7_days": None,
                    "planned_30_days": None,
                    "planned_100_days": None,
                    "configurations": configurations,
                }
            )
        stocks.append({"region": region, "stock-type": "GPU", "models": entries})
    return {"stocks": stocks}


def _refused(request: HttpRequest) -> JsonResponse | None:
    """A 401 for an empty ``api_key``; None (go on) for a key, or a header the server dropped."""
    if "api_key" in request.headers and not request.headers["api_key"].strip():
        return _unauthorized()
    return None


def _unauthorized() -> JsonResponse:
    return JsonResponse(
        {"status": False, "message": "Unauthorized", "error_reason": "api_key header is missing or invalid"},
        status=401,
    )


@require_GET
@never_cache
def flavors_view(request: HttpRequest) -> JsonResponse:
    return _refused(request) or JsonResponse(flavors_answer(now=timezone.now()))


@require_GET
@never_cache
def pricebook_view(request: HttpRequest) -> JsonResponse:
    return _refused(request) or JsonResponse(pricebook_answer(), safe=False)


@require_GET
@never_cache
def stocks_view(request: HttpRequest) -> JsonResponse:
    return _refused(request) or JsonResponse(stocks_answer(now=timezone.now()))
