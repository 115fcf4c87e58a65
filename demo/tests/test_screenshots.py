"""``make screenshots`` (demo/screenshots.py) takes every image the README shows, of pages that exist."""

import re
from pathlib import Path

from django.urls import resolve

from demo import screenshots

README = Path(screenshots.BASE_DIR / "README.md")


def test_the_script_takes_every_screenshot_the_readme_shows():
    shown = re.findall(r"docs/screenshots/([a-z-]+?)-(desktop|phone)\.png", README.read_text())

    assert shown, "the README shows no screenshot"
    for page, size in shown:
        assert page in screenshots.PAGES and size in screenshots.SIZES, f"{page}-{size}.png is not taken"
        assert (screenshots.BASE_DIR / "docs" / "screenshots" / f"{page}-{size}.png").exists()


def test_each_page_it_captures_is_a_url_of_the_portal():
    values = {"offer": 1, "provider": "lambda", "connection": 1, "request": 1}
    for user, path in screenshots.PAGES.values():
        resolve(path.format(**values).split("?")[0])
        assert user in {None, "provider", "developer"}  # the demo's logins (demo/load.py LOGINS)
