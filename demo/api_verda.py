"""A mock of Verda's (DataCrunch's) public API, for the demo (only when DEMO_ENABLED).

The three endpoints the Verda adapter uses (see sync/adapters/verda.py), in the real API's
format, so a sync connection of kind "verda" with the base URL
``http://127.0.0.1:8000/demo/api/verda`` works with the adapter unchanged:

- ``POST /v1/oauth2/token`` (client credentials, JSON body) -> a signed access token valid one hour;
- ``GET /v1/instance-types`` -> types with on-demand and spot prices per instance-hour;
- ``GET /v1/instance-availability?is_spot=true|false`` -> the types free now, per location.

The last two want ``Authorization: Bearer <a token from the first>``. Any non-empty client id
and secret get a token. Availability changes every few minutes as a pure function of the time
(like feeds.py). Types and prices are modelled on Verda's public price list; demo data only.
"""

import json
from datetime import datetime

from django.core import signing
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from demo.api_keys import bearer_key
from demo.feeds import _unit

STEP_SECONDS = 180
FREE_CHANCE = {"false": 0.55, "true": 0.4}  # on-demand, spot
SIGNING_SALT = "demo.api_verda"
TOKEN_SECONDS = 3600
LOCATIONS = ("FIN-01", "FIN-02", "FIN-03", "ICE-01")

# instance type, model, name, GPUs, VRAM per GPU, vCPUs, RAM GB, price, spot price (per instance-hour), locations
TYPES = [
    ("1B200.30V", "B200", "B200 SXM6 180GB", 1, 180, 30, 184, "3.99", "1.60", ("FIN-03",)),
    ("8B200.240V", "B200", "B200 SXM6 180GB", 8, 180, 240, 1472, "31.92", "12.80", ("FIN-03",)),
    ("1H200.141S.44V", "H200", "H200 SXM5 141GB", 1, 141, 44, 185, "3.29", "1.35", ("FIN-02", "FIN-03")),
    ("1H100.80S.30V", "H100", "H100 SXM5 80GB", 1, 80, 30, 120, "2.29", "1.15", ("FIN-01", "FIN-03")),
    ("8H100.80S.176V", "H100", "H100 SXM5 80GB", 8, 80, 176, 1480, "18.32", "9.16", ("FIN-01", "FIN-03")),
    ("1A100.22V", "A100", "A100 SXM4 80GB", 1, 80, 22, 120, "1.29", "0.45", ("FIN-01", "ICE-01")),
    ("1L40S.20V", "L40S", "L40S 48GB", 1, 48, 20, 60, "0.91", "0.36", ("FIN-02",)),
    ("1RTX6000ADA.10V", "RTX 6000 Ada", "RTX 6000 Ada 48GB", 1, 48, 10, 60, "0.79", "0.30", ("FIN-01", "FIN-02")),
    ("1V100.6V", "Tesla V100", "Tesla V100 16GB", 1, 16, 6, 23, "0.39", "0.14", ("ICE-01",)),
    ("CPU.4V.16G", "CPU Node", "AMD EPYC", 0, 0, 4, 16, "0.03", "0.01", LOCATIONS),
]


def instance_types() -> list[dict]:
    """The body of ``GET /v1/instance-types`` (prices in USD)."""
    items = []
    for code, model, name, gpus, vram, vcpus, memory, price, spot, _ in TYPES:
        items.append(
            {
                "id": f"demo-{code.lower()}",
                "instance_type": code,
                "model": model,
                "name": name,
                "display_name": f"NVIDIA {name}" if gpus else name,
                "description": "Dedicated Hardware Instance",
                "manufacturer": "NVIDIA" if gpus else "AMD",
                "cpu": {"description": f"{vcpus} CPU", "number_of_cores": vcpus},
                "gpu": {"description": f"{gpus}x {name}" if gpus else "", "number_of_gpus": gpus},
                "gpu_memory": {"description": f"{gpus * vram}GB GPU RAM", "size_in_gigabytes": gpus * vram},
                "memory": {"description": f"{memory}GB RAM", "size_in_gigabytes": memory},
                "storage": {"description": "dynamic"},
                "price_per_hour": price,
                "spot_price": spot,
                "currency": "usd",
                "supported_os": ["ubuntu-24.04-cuda-12.8-open-docker"],
            }
        )
    return items


def instance_availability(*, spot: bool, now: datetime) -> list[dict]:
    """The body of ``GET /v1/instance-availability?is_spot=...`` at ``now``."""
    step, plan = int(now.timestamp() // STEP_SECONDS), "true" if spot else "false"
    return [
        {
            "location_code": location,
            "availabilities": [
                code
                for code, *_, locations in TYPES
                if location in locations and _unit("verda", code, location, plan, step) < FREE_CHANCE[plan]
            ],
        }
        for location in LOCATIONS
    ]


@csrf_exempt
@require_POST
@never_cache
def token_view(request: HttpRequest) -> JsonResponse:
    """``POST /v1/oauth2/token``: client credentials in, a Bearer token out."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = request.POST.dict()
    if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
        return JsonResponse({"code": "invalid_request", "message": "grant_type must be client_credentials"}, status=400)
    client_id, secret = str(body.get("client_id") or ""), str(body.get("client_secret") or "")
    if not client_id.strip() or not secret.strip():
        return JsonResponse({"code": "unauthorized_request", "message": "Invalid client credentials"}, status=401)
    token = signing.dumps({"client": client_id}, salt=SIGNING_SALT)
    return JsonResponse(
        {
            "access_token": token,
            "refresh_token": signing.dumps({"refresh": client_id}, salt=SIGNING_SALT),
            "scope": "cloud-api-v1",
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        }
    )


@require_GET
@never_cache
def instance_types_view(request: HttpRequest) -> JsonResponse:
    if refusal := _refuse(request):
        return refusal
    return JsonResponse(instance_types(), safe=False)


@require_GET
@never_cache
def instance_availability_view(request: HttpRequest) -> JsonResponse:
    if refusal := _refuse(request):
        return refusal
    spot = request.GET.get("is_spot", "false").lower() == "true"
    return JsonResponse(instance_availability(spot=spot, now=timezone.now()), safe=False)


def _refuse(request: HttpRequest) -> JsonResponse | None:
    """A 401 in Verda's error format unless the request carries a token this mock issued."""
    try:
        if "client" in signing.loads(bearer_key(request), salt=SIGNING_SALT, max_age=TOKEN_SECONDS):
            return None
    except signing.BadSignature:
        pass
    return JsonResponse({"code": "unauthorized_request", "message": "Access token is missing or invalid"}, status=401)
