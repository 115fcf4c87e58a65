"""The connection form: help for the kind selected, a name from the kind when left blank, and the
feed's format one link away."""

import json

import pytest
from django.urls import reverse

from sync.models import SyncConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def create(client, provider, **data):
    values = {"kind": "feed", "name": "", "base_url": "https://a.example/f.json", "interval_seconds": 60, **data}
    return client.post(reverse("dashboard:connection_create", args=[provider.slug]), values)


@pytest.mark.parametrize(("kind", "name"), [("lambda", "Lambda Cloud API"), ("feed", "Inventory feed")])
def test_a_connection_left_unnamed_is_named_after_its_kind(alice_client, acme, kind, name):
    assert create(alice_client, acme, kind=kind).status_code == 302
    assert SyncConnection.objects.get(provider=acme).name == name


def test_a_name_given_is_kept(alice_client, acme):
    create(alice_client, acme, name="Frankfurt feed")
    assert SyncConnection.objects.get(provider=acme).name == "Frankfurt feed"


def test_the_form_starts_unnamed_and_has_help_for_each_kind_that_css_narrows_to_the_selected_one(alice_client, acme):
    page = alice_client.get(reverse("dashboard:connection_create", args=[acme.slug]))
    assert page.context["form"]["name"].value() == ""
    html = page.text
    for kind in ["feed", "lambda", "runpod", "vastai"]:
        # Without :has() (or CSS), every kind's help shows, each under its heading.
        assert f'<section class="kind-help-item" id="kind-help-{kind}" data-kind="{kind}">' in html
        assert f'option[value="{kind}"]:checked) .kind-help-item:not([data-kind="{kind}"]) {{ display: none; }}' in html
    assert reverse("dashboard:feed_format", args=[acme.slug]) in html


def test_the_feed_format_and_its_schema_are_served_to_members(client, bob, acme):
    client.force_login(bob)
    doc = client.get(reverse("dashboard:feed_format", args=[acme.slug]))
    schema = client.get(reverse("dashboard:feed_format_schema", args=[acme.slug]))
    assert doc["Content-Type"].startswith("text/plain") and b"# The open provider feed" in doc.content
    assert json.loads(schema.content)["$schema"].startswith("https://json-schema.org/")
