"""English and French UI: pages follow the browser or the language switcher, and the French catalog is complete.

locale/fr/LC_MESSAGES/django.po is the source; the compiled django.mo is committed (machines without gettext
cannot compile it), so these tests also check that the .mo matches the .po.
"""

import ast
import gettext
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from portal.testing import make_offer

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def page_text(response) -> str:
    # Translations contain apostrophes, which templates escape (&#x27;).
    return html.unescape(response.content.decode())


def po_entries() -> list[dict]:
    """The .po file's entries as {"msgid": ..., "msgstr": ..., "flags": [...]}; a reader just good enough here."""
    entries = []
    for block in re.split(r"\n\s*\n", PO_PATH.read_text(encoding="utf-8").strip()):
        entry, key = {"flags": []}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if entry.get("msgid"):  # the header has an empty msgid
            entries.append(entry)
    return entries


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_pages_follow_the_browser_language(client, db):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")

    text = page_text(response)
    assert '<html lang="fr">' in text
    assert "Filtres" in text
    assert "Appliquer les filtres" in text
    assert "Catalogue de capacité GPU" in text
    assert "Apply filters" not in text
    assert "Sign in" not in text


def test_english_stays_the_default(client, db):
    response = client.get("/")

    text = page_text(response)
    assert '<html lang="en">' in text
    assert "Apply filters" in text
    assert "Appliquer les filtres" not in text


def test_the_language_switcher_sets_french_for_the_next_pages(client, db):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/gpus/"})

    assert response.status_code == 302
    assert response["Location"] == "/gpus/"
    text = page_text(client.get("/"))
    assert "Appliquer les filtres" in text
    assert "Apply filters" not in text


def test_the_switcher_is_a_button_for_the_other_language_so_arrow_keys_never_submit(client, db):
    english = page_text(client.get("/"))
    french = page_text(client.get("/", HTTP_ACCEPT_LANGUAGE="fr"))

    switch = '<button type="submit" name="language" value="{}" lang="{}" class="small secondary outline">{}</button>'
    assert switch.format("fr", "fr", "Français") in english and 'value="en"' not in english
    assert switch.format("en", "en", "English") in french
    assert "onchange" not in english


def test_the_catalog_shows_offers_in_french(client, acme_fra):
    make_offer(acme_fra.provider, acme_fra, pricing_type="spot")
    make_offer(acme_fra.provider, acme_fra)

    text = page_text(client.get("/", HTTP_ACCEPT_LANGUAGE="fr"))

    assert "2 offres" in text
    assert "À la demande" in text
    assert "On demand" not in text


def test_the_sign_in_page_speaks_french(client, db):
    text = page_text(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr"))

    assert "Se connecter" in text
    assert "Mot de passe oublié\u00a0?" in text
    assert "Pas encore de compte\u00a0?" in text
    assert "Forgot your password?" not in text
    assert "Sign in" not in text


def test_the_provider_dashboard_speaks_french(client, alice, acme_fra):
    make_offer(acme_fra.provider, acme_fra)
    client.force_login(alice)

    overview = page_text(
        client.get(reverse("dashboard:provider", args=[acme_fra.provider.slug]), HTTP_ACCEPT_LANGUAGE="fr")
    )
    offers = page_text(
        client.get(reverse("dashboard:offer_list", args=[acme_fra.provider.slug]), HTTP_ACCEPT_LANGUAGE="fr")
    )

    assert "Tableau de bord" in overview
    assert "Vue d'ensemble" in overview
    assert "Overview" not in overview
    assert "Nouvelle offre" in offers
    assert "Importer un CSV" in offers
    assert "New offer" not in offers


def test_messages_from_views_are_translated(client, alice, acme):
    client.force_login(alice)

    response = client.post(
        reverse("dashboard:region_create", args=[acme.slug]),
        {"code": "eu-par-1", "name": "Paris 1", "country": "FR", "city": "Paris"},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )

    assert "Région eu-par-1 ajoutée." in page_text(response)


def test_every_message_has_a_checked_french_translation():
    entries = po_entries()

    untranslated = [entry["msgid"] for entry in entries if not all(translations(entry))]
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert len(entries) > 100
    assert untranslated == [], "run makemessages, translate, then compilemessages"
    assert fuzzy == [], "check these translations and remove their fuzzy flag"


def test_translations_keep_the_placeholders():
    wrong = [
        entry["msgid"]
        for entry in po_entries()
        for text in translations(entry)
        if sorted(set(PLACEHOLDER.findall(text))) != sorted(set(PLACEHOLDER.findall(entry["msgid"])))
    ]

    assert wrong == []


def _mo_key(entry: dict) -> str:
    """How a .mo file keys an entry: a message in a context is "context\x04msgid"."""
    return f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]


def test_the_committed_mo_file_matches_the_po_file():
    with MO_PATH.open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog

    stale = [
        entry["msgid"]
        for entry in po_entries()
        if "msgid_plural" not in entry and catalog.get(_mo_key(entry)) != entry["msgstr"]
    ]
    assert stale == [], "run `manage.py compilemessages -l fr` and commit locale/fr/LC_MESSAGES/django.mo"


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs GNU gettext's msgfmt")
def test_msgfmt_accepts_the_po_file():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO_PATH)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
