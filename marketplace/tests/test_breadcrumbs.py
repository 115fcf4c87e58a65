"""Breadcrumbs of the offer, GPU and country pages lead back to the catalog with the filters the
visitor came from: from ?back= or our own catalog's Referer, only as a catalog query string."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.filters import catalog_query_clean

pytestmark = pytest.mark.django_db

CATALOG = "http://testserver/?country=DE&gpu=h100-sxm&sort=capacity"


def catalog_crumb(response) -> str:
    assert response.status_code == 200
    nav = re.search(r'<nav aria-label="Breadcrumb">(.*?)</nav>', response.content.decode(), re.S).group(1)
    return unescape(re.search(r'<a href="([^"]*)">Catalog</a>', nav).group(1))


@pytest.fixture
def pages(de_h100):
    return [f"/offers/{de_h100.pk}/", "/gpus/h100-sxm/", "/countries/de/"]


def test_from_the_catalog_the_crumb_keeps_its_filters(client, pages):
    for url in pages:
        assert catalog_crumb(client.get(url, headers={"Referer": CATALOG})) == "/?country=DE&gpu=h100-sxm&sort=capacity"


def test_a_back_parameter_is_read_as_a_catalog_query(client, pages):
    for url in pages:
        response = client.get(url, {"back": "country=DE&country=DE&gpu=h200&page=2"})
        assert catalog_crumb(response) == "/?country=DE&gpu=h200&page=2"


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/?country=DE",  # another site
        "http://testserver/providers/?country=DE",  # not the catalog
        "http://testserver/?next=https://evil.example&redirect=//evil.example",  # not catalog parameters
        "javascript:alert(1)",
        "",
    ],
)
def test_anything_else_is_the_bare_catalog(client, pages, referer):
    for url in pages:
        assert catalog_crumb(client.get(url, headers={"Referer": referer})) == "/"


def test_a_hostile_back_parameter_never_becomes_a_url(client, pages):
    for back in ["https://evil.example/", "//evil.example", '"><script>alert(1)</script>']:
        for url in pages:
            response = client.get(url, {"back": back})
            assert catalog_crumb(response) == "/"
            assert "<script>alert" not in response.content.decode()


def test_values_are_encoded_not_injected(client, de_h100):
    response = client.get(f"/offers/{de_h100.pk}/", {"back": 'country="><b>x'})
    assert catalog_crumb(response) == "/?country=%22%3E%3Cb%3Ex"
    assert "<b>x" not in response.content.decode()


def test_a_query_too_long_is_dropped():
    assert catalog_query_clean("&".join(f"gpu=model-{n}" for n in range(80))) == "&".join(
        f"gpu=model-{n}" for n in range(settings.MAX_VALUES_PER_PARAMETER)
    )
    assert catalog_query_clean("country=" + "X" * 3000) == ""


def test_the_crumbs_cost_no_query(client, de_h100):
    for url in [f"/offers/{de_h100.pk}/", "/gpus/h100-sxm/", "/countries/de/"]:
        with CaptureQueriesContext(connection) as plain:
            client.get(url)
        with CaptureQueriesContext(connection) as back:
            client.get(url, headers={"Referer": CATALOG})
        assert len(back.captured_queries) == len(plain.captured_queries), url
