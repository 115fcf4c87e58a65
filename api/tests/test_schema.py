"""The OpenAPI schema is valid and the API honours it: schemathesis finds no 5xx, no violation."""

import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {"/api/v1/offers/", "/api/v1/inventory/", "/api/v1/gpus/{slug}/price-index/"} <= paths
    parameters = {parameter["name"] for parameter in schema["paths"]["/api/v1/offers/"]["get"]["parameters"]}
    assert {"gpu", "country", "region_group", "min_gpus", "max_price", "sort", "per_page", "cursor"} <= parameters


def test_the_documentation_page_loads_its_assets_from_this_site(client):
    page = client.get("/api/v1/docs/").text
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server, acme_fra, beta_nyc):
    """Bounded property-based testing of every public endpoint against the schema."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    from portal.testing import make_offer

    make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    make_offer(beta_nyc.provider, beta_nyc, "l4", nodes_available=None, nodes_total=None)
    api = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")
    failures = []
    for operation in api.get_all_operations():
        operation = operation.ok()
        if operation.method.upper() != "GET":
            continue

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(base_url=live_server.url)
            for conformance in (not_a_server_error, status_code_conformance, response_schema_conformance):
                case.validate_response(response, checks=(conformance,))

        try:
            check()
        except Exception as error:  # noqa: BLE001 (collect every operation's failure)
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert failures == []
