"""One anonymous request cannot hold a web worker or the database: repeated parameters are
deduplicated, the number of values per parameter and the query string's size are capped, and
catalog queries stop at a statement timeout (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from portal.testing import require_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers(de_h100, us_h200, certified):
    return [de_h100, us_h200]


def catalog_sql(client, query: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/?{query}")
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_a_repeated_value_counts_once(client, offers):
    once = catalog_sql(client, "cert=soc2&country=DE")
    repeated = catalog_sql(client, "cert=soc2&cert=soc2&cert=soc2&country=de&country=DE")
    assert [sql.count("EXISTS") for sql in repeated] == [sql.count("EXISTS") for sql in once]
    assert [sql.count("'DE'") for sql in repeated] == [sql.count("'DE'") for sql in once]


def test_the_attack_of_the_issue_is_refused_at_once(client, offers):
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/?" + "&".join(["cert=c5"] * 450))
    assert response.status_code == 400
    assert "Too many values" in response.text
    assert len(queries.captured_queries) == 0
    assert time.monotonic() - started < 1


def test_values_per_parameter_are_capped(client, offers, settings):
    settings.MAX_VALUES_PER_PARAMETER = 5
    assert client.get("/?" + "&".join(f"country={c}" for c in ["DE", "FR", "US", "GB", "NL"])).status_code == 200
    assert client.get("/?" + "&".join(f"country={c}" for c in ["DE", "FR", "US", "GB", "NL", "SE"])).status_code == 400


def test_the_query_string_is_capped(client, db, settings):
    settings.MAX_QUERY_STRING_BYTES = 100
    assert client.get("/?q=" + "x" * 90).status_code == 200
    response = client.get("/?q=" + "x" * 100)
    assert response.status_code == 400
    assert "too long" in response.text


def test_the_limits_apply_to_every_page(client, db):
    assert client.get("/countries/?" + "&".join(["sort=gpus"] * 100)).status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_catalog_query_past_its_statement_timeout_answers_503_and_frees_the_worker(client, offers, settings):
    """Another session locks the offer table: the catalog's query waits, and is cancelled."""
    require_postgres()
    settings.CATALOG_STATEMENT_TIMEOUT_MS = 300
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("LOCK TABLE marketplace_offer IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(30)
                cursor.execute("ROLLBACK")
        finally:
            other.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        response = client.get("/?gpu=h100-sxm")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert "took too long" in response.text
    assert elapsed < 5
    # The connection is usable again for the next request.
    assert client.get("/?gpu=h100-sxm").status_code == 200
