"""Screenshots of the main pages with the demo data, for the README and docs: ``make screenshots``.

Migrates a throwaway SQLite database, loads the demo into it (``load_demo``), serves it with
``runserver`` on a free port and captures each page of PAGES with Playwright and Chromium, on a
laptop (1366x900) and a phone (390x844), into docs/screenshots/<page>-desktop.png and
-phone.png. Nothing of the developer's own database or .run/ directory is touched.

    .venv/bin/python -m demo.screenshots [--out docs/screenshots] [--only catalog,offer] [--dark] [--language fr]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
# How many screens of a long page are captured (at device scale 1): enough to show it, in files
# of 100-400 kB.
MAX_SCREENS = {"desktop": 1, "phone": 2}

# name -> (who is signed in, path); the path's {placeholders} are filled from the demo's data.
PAGES = {
    "catalog": (None, "/"),
    "offer": (None, "/offers/{offer}/"),
    "gpu": (None, "/gpus/h100-sxm/"),
    "countries": (None, "/countries/"),
    "provider": (None, "/providers/{provider}/"),
    "dashboard": ("provider", "/dashboard/{provider}/"),
    "connection": ("provider", "/dashboard/{provider}/connections/{connection}/"),
    "team": ("provider", "/dashboard/{provider}/team/"),
    "request": ("developer", "/requests/{request}/"),
}


def demo_environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "true",  # runserver serves the static files
        "DEMO_ENABLED": "true",
        "SYNC_ALLOW_PRIVATE_ADDRESSES": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "RUN_DIR": str(workdir / "run"),
    }


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.Popen | None:
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(command, env=env, cwd=BASE_DIR, **kwargs)  # noqa: S603 (our manage.py)
    subprocess.run(command, env=env, cwd=BASE_DIR, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return None


def demo_placeholders(env: dict[str, str]) -> dict[str, object]:
    """The ids the page paths need, read from the demo database."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from deals.models import CapacityRequest
    from demo.load import PROVIDER_USER_PARTNER
    from marketplace.models import Offer
    from sync.models import SyncConnection

    offer = (
        Offer.objects.filter(
            provider__slug=PROVIDER_USER_PARTNER, status=Offer.Status.ACTIVE, gpu_model__slug="h100-sxm"
        ).first()
        or Offer.objects.filter(status=Offer.Status.ACTIVE).first()
    )
    return {
        "offer": offer.pk,
        "provider": PROVIDER_USER_PARTNER,
        "connection": SyncConnection.objects.filter(provider__slug=PROVIDER_USER_PARTNER).first().pk,
        "request": CapacityRequest.objects.filter(developer__username="developer").order_by("pk").first().pk,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (our own local server)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def sign_in(context, base: str, username: str) -> None:
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", username)  # the demo logins' passwords are their names
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.close()


def capture(
    base: str,
    out: Path,
    pages: dict[str, tuple[str | None, str]],
    values: dict,
    scheme: str = "light",
    language: str = "en",
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            for size, (width, height) in SIZES.items():
                contexts = {}
                for name, (user, path) in pages.items():
                    if user not in contexts:
                        contexts[user] = browser.new_context(
                            viewport={"width": width, "height": height},
                            device_scale_factor=1,
                            color_scheme=scheme,
                            locale=language,  # the Accept-Language the portal answers in
                        )
                        if user:
                            sign_in(contexts[user], base, user)
                    page = contexts[user].new_page()
                    page.goto(base + path.format(**values))
                    page.wait_for_load_state("networkidle")
                    full = page.evaluate("document.documentElement.scrollHeight")
                    clip = {"x": 0, "y": 0, "width": width, "height": min(full, height * MAX_SCREENS[size])}
                    suffix = ("-dark" if scheme == "dark" else "") + ("" if language == "en" else f"-{language}")
                    target = out / f"{name}-{size}{suffix}.png"
                    page.screenshot(path=str(target), full_page=True, clip=clip)
                    written.append(target)
                    page.close()
                for context in contexts.values():
                    context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "docs" / "screenshots")
    parser.add_argument("--only", help="comma-separated page names (default: all of them)")
    parser.add_argument("--dark", action="store_true", help="in dark mode, as <page>-<size>-dark.png")
    parser.add_argument("--language", default="en", help="the browser's language, e.g. fr: <page>-<size>-fr.png")
    args = parser.parse_args(argv)
    pages = {name: PAGES[name] for name in args.only.split(",")} if args.only else PAGES
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        workdir = Path(tmp)
        env = demo_environment(workdir)
        print("Migrating a throwaway database and loading the demo...", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        values = demo_placeholders(env)
        port = free_port()
        server = manage(
            env,
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            background=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/healthz")
            scheme = "dark" if args.dark else "light"
            for path in capture(base, args.out, pages, values, scheme, args.language):
                print(f"  {path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
