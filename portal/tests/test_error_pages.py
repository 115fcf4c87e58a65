"""The 404 and 500 pages (and 400, 403, 429, 503) are in the site's design."""

import pytest
from django.template.loader import render_to_string


@pytest.mark.django_db
def test_a_missing_page_is_a_404_in_the_sites_design(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.text and 'class="container-fluid site-header"' in response.text
    assert "Back to the catalog" in response.text


@pytest.mark.parametrize(
    ("template", "heading"),
    [
        ("500.html", "Something went wrong"),
        ("503.html", "Temporarily unavailable"),
        ("400.html", "Bad request"),
        ("403.html", None),
        ("429.html", None),
    ],
)
def test_server_errors_render_in_the_design_without_a_request_or_database(template, heading):
    # As Django's server_error renders it: no request, no context processors. Without the
    # django_db mark any query would fail this test: the page needs no database.
    page = render_to_string(template)
    assert heading is None or heading in page
    assert 'class="container-fluid site-header"' in page and 'class="error-page"' in page
    assert f'<p class="error-code muted">{template[:3]}</p>' in page and 'rel="icon"' in page
