"""What every adapter promises (sync/adapters/base.py, docs/adapters/README.md), checked for each.

One table row per kind says what differs: the saved answer, what its API is asked and how the
credentials go, which listing of the answer has the entries and how a skipped one is named, where
the demo mocks it, and the GPU names its saved answer holds back on purpose. Each adapter's own
test module covers only its API's quirks.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from marketplace.inventory import ParsedInventory
from marketplace.models import GpuAlias
from portal.lib.http import CredentialsRejected, GuardedClient
from portal.testing import Reply
from sync.adapters.base import AdapterError
from sync.adapters.registry import ADAPTERS, get_adapter
from sync.adapters.runpod import QUERY as RUNPOD_QUERY
from sync.adapters.vastai import SEARCH_QUERY as VAST_SEARCH
from sync.models import SyncConnection
from sync.tests.support import django_served, document, parse, payload, refusal

KEY = "k3y-0f-the-connection"
VERDA_TOKEN = "eyJhbGciOiJIUzI1NiJ9.demo-access-token.sig"  # in verda/oauth_token.json
CREDENTIAL_HEADERS = {"authorization", "x-api-key", "api_key"}


@dataclass(frozen=True)
class Kind:
    saved: str  # the saved answer (for Verda and Hyperstack, the combined payload fetch() builds)
    served: dict[str, tuple[str, ...]]  # path on the local server -> saved bodies it answers in turn
    base_path: str  # the connection's base URL on the local server
    requests: list[tuple[str, str]]  # the requests fetch() makes, in order
    sent: tuple[str, str]  # the header carrying the credentials, and its value
    listing: Callable[[dict], list | dict]  # where the saved answer's entries are
    entry: int | str  # one of them, which gives offers
    skipped: str  # the warning (for the feed: the error) naming that entry when it cannot be read
    demo: str  # a base URL under /demo/ where the demo mocks the API
    unknown_gpus: frozenset[str] = frozenset()  # GPU names the saved answer holds back on purpose
    demo_held_back: frozenset[str] = frozenset()  # names the demo's answer holds back at times
    credentials: str = KEY
    unauthenticated: tuple[str, ...] = ()  # paths asked without the credentials header
    posts: dict[str, dict] | None = None  # path -> the JSON body fetch() posts there
    refused_whole: bool = False  # the feed: an invalid offer refuses the whole document


KINDS = {
    "feed": Kind(
        saved="feed_v1_acme.json",
        served={"/feed.json": ("feed_v1_acme.json",)},
        base_path="/feed.json",
        requests=[("GET", "/feed.json")],
        sent=("Authorization", f"Bearer {KEY}"),
        listing=lambda document: document["offers"],
        entry=1,
        # Our own format, checked against its schema: docs/provider-feed.md refuses the whole feed.
        skipped='offers[1]: "garbage" is not of type object',
        refused_whole=True,
        demo="feeds/coreweave.json",  # a demo partner's feed (demo/partners.py)
    ),
    "lambda": Kind(
        saved="lambda/instance_types.json",
        served={"/api/v1/instance-types": ("lambda/instance_types.json",)},
        base_path="/api/v1/",
        requests=[("GET", "/api/v1/instance-types")],
        sent=("Authorization", f"Bearer {KEY}"),
        listing=lambda document: document["data"],
        entry="gpu_8x_h100_sxm5",
        skipped='Instance type "gpu_8x_h100_sxm5" skipped: it is not an object.',
        demo="api/lambda",
        unknown_gpus=frozenset({"A16 (64 GB)"}),  # the board's four GPUs' memory: contradicts every A16
    ),
    "shadeform": Kind(
        saved="shadeform/instance_types.json",
        served={"/v1/instances/types": ("shadeform/instance_types.json",)},
        base_path="/v1",
        requests=[("GET", "/v1/instances/types")],
        sent=("X-API-KEY", KEY),
        listing=lambda document: document["instance_types"],
        entry=0,
        skipped="instance_types[0] skipped: it is not an object.",
        demo="api/shadeform",
    ),
    "verda": Kind(
        saved="verda/combined.json",
        served={
            "/v1/oauth2/token": ("verda/oauth_token.json",),
            "/v1/instance-types": ("verda/instance_types.json",),
            "/v1/instance-availability": ("verda/availability.json", "verda/spot_availability.json"),
        },
        base_path="/v1",
        requests=[
            ("POST", "/v1/oauth2/token"),
            ("GET", "/v1/instance-types?currency=usd"),
            ("GET", "/v1/instance-availability?is_spot=false"),
            ("GET", "/v1/instance-availability?is_spot=true"),
        ],
        credentials="client-id:secret:with-colons",  # OAuth client credentials, traded for a token
        sent=("Authorization", f"Bearer {VERDA_TOKEN}"),
        unauthenticated=("/v1/oauth2/token",),
        posts={
            "/v1/oauth2/token": {
                "grant_type": "client_credentials",
                "client_id": "client-id",
                "client_secret": "secret:with-colons",  # all that follows the first colon
            }
        },
        listing=lambda document: document["instance_types"],
        entry=0,
        skipped="instance_types[0] skipped: it is not an object.",
        demo="api/verda",
    ),
    "runpod": Kind(
        saved="runpod/gpu_inventory.json",
        served={"/graphql": ("runpod/gpu_inventory.json",)},
        base_path="",
        requests=[("POST", "/graphql")],
        posts={"/graphql": {"query": RUNPOD_QUERY}},
        sent=("Authorization", f"Bearer {KEY}"),
        listing=lambda document: document["data"]["gpuTypes"],
        entry=0,
        skipped="gpuTypes[0] skipped: it is not an object.",
        demo="api/runpod",
    ),
    "vastai": Kind(
        saved="vastai/bundles.json",
        served={"/api/v0/bundles/": ("vastai/bundles.json",)},
        base_path="/",
        requests=[("POST", "/api/v0/bundles/")],
        posts={"/api/v0/bundles/": VAST_SEARCH},
        sent=("Authorization", f"Bearer {KEY}"),
        listing=lambda document: document["offers"],
        entry=1,  # not offers[0]: a dearer listing of its machine would take its place
        skipped="offers[1] skipped: it is not an object.",
        demo="api/vastai",
        # Vast's "H200" states neither SXM nor NVL: on 8 GPUs NVLink says SXM (a bridge joins at
        # most 4 H200 NVL); half the machine, listed while not rented, may be either.
        demo_held_back=frozenset({"H200"}),
    ),
    "hyperstack": Kind(
        saved="hyperstack/combined.json",
        served={
            "/v1/core/flavors": ("hyperstack/flavors.json",),
            "/v1/pricebook": ("hyperstack/pricebook.json",),
            "/v1/core/stocks": ("hyperstack/stocks.json",),
        },
        base_path="/v1",
        requests=[("GET", "/v1/core/flavors"), ("GET", "/v1/pricebook"), ("GET", "/v1/core/stocks")],
        sent=("api_key", KEY),
        listing=lambda document: document["flavors"]["data"],
        entry=0,
        skipped="flavors.data[0] skipped: it is not an object.",
        demo="api/hyperstack",
    ),
}

pytestmark = pytest.mark.parametrize("kind", list(ADAPTERS))


def test_every_kind_is_in_the_table_and_a_connection_kind(kind):
    assert set(KINDS) == set(ADAPTERS) == {value for value, _ in SyncConnection._meta.get_field("kind").choices}
    assert get_adapter(kind).kind == kind


def test_the_connection_form_has_what_it_shows(kind):
    adapter = ADAPTERS[kind]

    assert str(adapter.label) and str(adapter.base_url_help) and str(adapter.credentials_help)
    assert adapter.base_url_example.startswith("https://")
    assert KINDS[kind].demo.startswith(adapter.demo_path)


# --- parse(): a pure function of the payload ---------------------------------------------------


def saved(kind: str) -> dict:
    return document(KINDS[kind].saved)


def test_the_saved_answer_gives_offers_of_the_documented_types_and_ranges(kind):
    # No database fixture: a parse that queried the database would fail here.
    inventory = parse(kind, payload(KINDS[kind].saved))

    assert inventory.offers
    assert len({offer.external_id for offer in inventory.offers}) == len(inventory.offers)
    for offer in inventory.offers:
        assert isinstance(offer.external_id, str) and offer.external_id
        assert isinstance(offer.gpu_model_raw, str) and offer.gpu_model_raw.strip()
        assert type(offer.gpus_per_node) is int and offer.gpus_per_node >= 1
        assert offer.pricing_type in {"on_demand", "spot", "reserved"}
        assert (offer.pricing_type == "reserved") == (offer.min_term_months is not None)
        price = offer.price_per_gpu_hour
        assert isinstance(price, Decimal) and price >= 0 and price.as_tuple().exponent >= -4
        assert len(offer.currency) == 3 and offer.currency.isalpha() and offer.currency.isupper()
        assert offer.nodes_available is None or (type(offer.nodes_available) is int and offer.nodes_available >= 0)
        assert offer.nodes_total is None or offer.nodes_total >= (offer.nodes_available or 0)
        for count in (offer.vcpus, offer.ram_gb, offer.storage_gb, offer.gpu_memory_gb):
            assert count is None or (type(count) is int and count >= 0)
        assert offer.gpu_interconnect in {"nvlink", "pcie", ""}
        assert offer.network in {"infiniband", "roce", "ethernet", ""}
    assert all(isinstance(warning, str) and warning for warning in inventory.warnings)


def test_offers_are_in_declared_regions(kind):
    inventory = parse(kind, payload(KINDS[kind].saved))

    declared = [region.code for region in inventory.regions]
    assert len(set(declared)) == len(declared)
    # A region's country is the one its answer states, or "" for the sync to place it
    # (sync/regions.py) or to hold it for review: never a guess.
    countries = {region.country for region in inventory.regions} - {""}
    assert all(len(country) == 2 and country.isupper() for country in countries)
    # An offer without a region is a type sold out everywhere: its answer names no place.
    assert all(offer.nodes_available == 0 for offer in inventory.offers if offer.region == "")
    assert {offer.region for offer in inventory.offers if offer.region} <= set(declared)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (payload("error_page.html"), "is an HTML page instead of JSON"),
        (b'{"offers": [{"id": ', "is not valid JSON at line 1 column"),
        (b"", "is empty."),
    ],
)
def test_an_answer_that_is_not_json_is_refused_in_words_for_people(kind, body, message):
    error = refusal(kind, body)

    text = str(error)
    assert text.startswith("The ") and text.endswith(".") and message in text
    # A maintenance page or an answer cut short may be gone at the next attempt.
    assert not error.permanent


def test_an_html_page_says_where_the_base_url_should_point(kind):
    text = str(refusal(kind, payload("error_page.html")))

    if kind == "feed":
        assert "the URL may point at a web page, a login page or an error page" in text
    else:
        assert f"the base URL is the API's address ({ADAPTERS[kind].base_url_example})" in text


def test_an_answer_that_is_not_the_documented_object_is_refused_for_good(kind):
    error = refusal(kind, b"[]")

    assert error.permanent
    assert str(error)[0].isupper() and str(error).endswith(".")


def test_an_empty_listing_is_an_empty_inventory(kind):
    document = saved(kind)
    KINDS[kind].listing(document).clear()

    inventory = parse(kind, document)

    assert (inventory.offers, inventory.warnings) == ([], [])


def test_an_entry_that_cannot_be_read_is_skipped_with_a_warning_and_the_rest_is_kept(kind):
    case = KINDS[kind]
    document = saved(kind)
    case.listing(document)[case.entry] = "garbage"

    if case.refused_whole:
        assert case.skipped in str(refusal(kind, document))
        return
    inventory = parse(kind, document)

    offers = parse(kind, payload(case.saved)).offers
    assert 0 < len(inventory.offers) < len(offers)
    assert all(offer in offers for offer in inventory.offers)
    assert case.skipped in inventory.warnings


def test_an_answer_where_no_entry_can_be_read_is_refused_for_good(kind):
    document = saved(kind)
    listing = KINDS[kind].listing(document)
    for key in listing if isinstance(listing, dict) else range(len(listing)):
        listing[key] = "garbage"

    error = refusal(kind, document)

    assert error.permanent
    if not KINDS[kind].refused_whole:
        assert str(error).startswith(f"None of the {len(listing)} ")


# --- fetch(): the requests the API documents ---------------------------------------------------


def serve(kind: str, local_server) -> str:
    """The local server answering like the kind's API; returns the connection's base URL."""
    for path, bodies in KINDS[kind].served.items():
        local_server.serve(path, *(payload(body) for body in bodies))
    return local_server.url(KINDS[kind].base_path)


def fetch(kind: str, base_url: str, credentials: str) -> bytes:
    with GuardedClient(allow_private=True) as client:
        return get_adapter(kind).fetch(base_url=base_url, credentials=credentials, client=client)


def test_fetch_asks_what_the_api_documents_with_the_credentials_as_it_documents(kind, local_server):
    case = KINDS[kind]

    body = fetch(kind, serve(kind, local_server), case.credentials)

    assert [(request.method, request.path) for request in local_server.requests] == case.requests
    header, value = case.sent
    for request in local_server.requests:
        sent = {name.lower(): value for name, value in request.headers.items()}
        if request.path in case.unauthenticated:
            assert not CREDENTIAL_HEADERS & set(sent)
        else:
            assert sent[header.lower()] == value
            assert not CREDENTIAL_HEADERS - {header.lower()} & set(sent)
    posted = {request.path: request for request in local_server.requests if request.method == "POST"}
    assert set(posted) == set(case.posts or ())
    for path, request in posted.items():
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.body) == case.posts[path]
    assert parse(kind, body) == parse(kind, payload(case.saved))


def test_fetch_sends_no_credentials_when_there_are_none(kind, local_server):
    base_url = serve(kind, local_server)

    if KINDS[kind].unauthenticated:  # Verda: nothing can be asked without a token
        with pytest.raises(AdapterError) as caught:
            fetch(kind, base_url, "")
        assert caught.value.permanent
        assert local_server.requests == []
        return
    fetch(kind, base_url, "")

    assert local_server.requests
    for request in local_server.requests:
        assert not CREDENTIAL_HEADERS & {name.lower() for name in request.headers}


def test_credentials_the_api_rejects_are_a_fetch_error(kind, local_server):
    serve(kind, local_server)
    for path in KINDS[kind].served:
        local_server.serve(path, Reply(b'{"error": "unauthorized"}', status=401))

    with pytest.raises(CredentialsRejected):
        fetch(kind, local_server.url(KINDS[kind].base_path), KINDS[kind].credentials)


# --- The demo's mock of the API ----------------------------------------------------------------


@pytest.fixture(scope="module")
def django_server():
    with django_served() as url:
        yield url


def demo_inventory(kind: str, django_server: str) -> ParsedInventory:
    return parse(kind, fetch(kind, f"{django_server}/demo/{KINDS[kind].demo}", KINDS[kind].credentials))


def test_the_demo_answers_what_the_adapter_reads(kind, django_server):
    assert demo_inventory(kind, django_server).offers


def unresolved_names(offers) -> set[str]:
    resolved = GpuAlias.objects.resolve_facts({offer.gpu_query for offer in offers})
    return {query.name for query, resolution in resolved.items() if resolution.gpu_model is None}


def test_every_gpu_name_resolves_but_the_ones_held_back_on_purpose(kind, django_server, db):
    # A new name the alias table lacks fails here: add it to the catalogue's aliases.
    assert unresolved_names(parse(kind, payload(KINDS[kind].saved)).offers) == KINDS[kind].unknown_gpus
    # The demo's answers change with the clock (machines rented, stock sold out): a subset.
    held_back = KINDS[kind].unknown_gpus | KINDS[kind].demo_held_back
    assert unresolved_names(demo_inventory(kind, django_server).offers) <= held_back
