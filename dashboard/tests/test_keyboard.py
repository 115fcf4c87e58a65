"""In a real browser, with the keyboard alone: a provider's owner reaches the dashboard's
sections, adds an offer, starts a sync and keeps the focus after it, and always sees where the
focus is. Only key presses drive the page: no click() or fill() on what is under test."""

import pytest
from django.urls import reverse

from deals.tests.test_small_screens import sign_in
from marketplace.models import Offer
from sync.models import SyncConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the focused element is, to tell where the Tab key went.
FOCUSED = """() => {
  const el = document.activeElement;
  return {tag: el.tagName.toLowerCase(), id: el.id, href: el.getAttribute("href"),
          text: (el.innerText || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 40)};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, matches, limit: int = 80) -> dict:
    """Press Tab until the focused element ``matches`` (a predicate on ``focused()``)."""
    reached = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        reached.append(focused(page))
        if matches(reached[-1]):
            return reached[-1]
    pytest.fail(f"Tab never reached it; it went through: {[(el['tag'], el['href'] or el['text']) for el in reached]}")


@pytest.fixture
def connection(acme):
    """Acme's feed; no worker runs in these tests, so what it starts stays queued."""
    return SyncConnection.objects.create(
        provider=acme, name="Acme feed", base_url="https://inventory.acme.example/v1/feed.json"
    )


def open_dashboard(page, live_server, user) -> None:
    sign_in(page, live_server, user)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}{reverse('dashboard:home')}")  # one provider: its dashboard
    page.wait_for_function("() => window.htmx !== undefined")


def test_an_owner_adds_an_offer_from_the_keyboard(live_server, page, alice, acme, acme_fra):
    open_dashboard(page, live_server, alice)
    offers = reverse("dashboard:offer_list", args=[acme.slug])
    page.wait_for_url(f"**{reverse('dashboard:provider', args=[acme.slug])}")

    tab_to(page, lambda el: el["href"] == offers)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{offers}")

    new_offer = reverse("dashboard:offer_create", args=[acme.slug])
    tab_to(page, lambda el: el["href"] == new_offer)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{new_offer}")

    # The form's fields, in the order Tab reaches them.
    tab_to(page, lambda el: el["id"] == "id_region")
    page.keyboard.press("ArrowDown")  # the first (and only) region
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_gpu_model"
    page.keyboard.type("H100")  # type-ahead: the first option starting with it
    page.keyboard.press("Tab")
    page.keyboard.type("8")  # GPUs per node
    for _ in range(3):  # vCPUs, RAM and storage stay blank
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_gpu_interconnect"
    page.keyboard.press("ArrowDown")  # NVLink
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # network: InfiniBand
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_pricing_type"
    page.keyboard.press("ArrowDown")  # from "On demand" to "Spot"
    page.keyboard.press("Tab")  # minimum term: blank
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_price_per_gpu_hour"
    page.keyboard.type("2.49")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_currency"
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("EUR")
    page.keyboard.press("Tab")
    page.keyboard.type("3")  # nodes available
    page.keyboard.press("Tab")
    page.keyboard.type("4")  # nodes in total
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_external_id"
    page.keyboard.type("kb-1")
    page.keyboard.press("Enter")  # submits the form

    page.wait_for_url(f"**{offers}")
    offer = Offer.objects.get(provider=acme, external_id="kb-1")
    assert (offer.region, offer.gpu_model.slug, offer.gpus_per_node) == (acme_fra, "h100-sxm", 8)
    assert (offer.gpu_interconnect, offer.network, offer.pricing_type) == ("nvlink", "infiniband", "spot")
    assert (str(offer.price_per_gpu_hour), offer.currency) == ("2.4900", "EUR")
    assert (offer.nodes_available, offer.nodes_total) == (3, 4)
    message = page.locator(".message.success")
    assert "created" in message.inner_text()
    assert message.is_visible()


@pytest.mark.parametrize("key", ["Enter", "Space"])
def test_sync_now_from_the_keyboard_keeps_the_focus(live_server, page, alice, acme, connection, key):
    open_dashboard(page, live_server, alice)
    page.goto(f"{live_server.url}{reverse('dashboard:connection_detail', args=[acme.slug, connection.pk])}")
    page.wait_for_function("() => window.htmx !== undefined")

    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Sync now")
    page.keyboard.press(key)

    # No worker: the run stays queued, and the page says so and keeps polling.
    progress = page.locator("#sync-progress")
    progress.get_by_text("Queued: waiting for a worker").wait_for()
    assert progress.get_attribute("hx-trigger") == "every 2s"
    page.wait_for_function("() => !document.querySelector('.busy-form.htmx-request')")
    # The focus stays on the button, not on <body>: the next Tab goes on from there.
    assert focused(page) == {"tag": "button", "id": "", "href": None, "text": "Sync now"}
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Pause"


def test_test_connection_from_the_keyboard_keeps_the_focus(live_server, page, alice, acme, connection):
    open_dashboard(page, live_server, alice)
    page.goto(f"{live_server.url}{reverse('dashboard:connection_detail', args=[acme.slug, connection.pk])}")
    page.wait_for_function("() => window.htmx !== undefined")

    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Test connection")
    page.keyboard.press("Enter")

    page.locator("#connection-test").get_by_role("heading", name="Test connection").wait_for()
    page.wait_for_function("() => !document.querySelector('.busy-form.htmx-request')")
    assert focused(page)["text"] == "Test connection"


# The box-shadow and outline of every element Tab can reach, keyed by a mark set on it: the look
# of each without the focus, to compare with its look when it has it.
MARK_TABBABLE = """() => {
  const looks = {};
  document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]").forEach((el, i) => {
    el.dataset.kb = i;
    const style = getComputedStyle(el);
    looks[i] = [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow].join(" ");
  });
  return looks;
}"""
FOCUS_LOOK = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {mark: el.dataset.kb, visible: el.matches(":focus-visible"),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
          look: [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow].join(" "),
          what: `${el.tagName.toLowerCase()} ${el.getAttribute("href") || el.id || el.innerText.trim().slice(0, 30)}`};
}"""


def test_every_control_of_the_dashboard_shows_its_focus(live_server, page, alice, acme, acme_fra, connection):
    page.emulate_media(reduced_motion="reduce")  # no transition: the styles read are the final ones
    open_dashboard(page, live_server, alice)
    unfocused = page.evaluate(MARK_TABBABLE)

    invisible, reached = [], 0
    for _ in range(100):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break  # past the last one
        reached += 1
        el = page.evaluate(FOCUS_LOOK)
        if not el["visible"] or not (el["outline"] or el["look"] != unfocused[el["mark"]]):
            invisible.append(el["what"])
    assert reached > 20, "Tab went through too few elements"
    assert not invisible, f"no visible focus on: {invisible}"


def test_the_skip_link_jumps_to_the_main_content(live_server, page, alice, acme):
    open_dashboard(page, live_server, alice)
    skip = page.locator("a.skip-link")
    assert skip.count() == 1, "the page has no skip link"
    assert skip.bounding_box()["width"] <= 1, "the skip link is hidden until it has the focus"

    page.keyboard.press("Tab")  # the page's first stop
    assert focused(page)["href"] == "#main"
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["width"] > 20 and box["height"] > 10, f"the focused skip link shows: {box}"

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.evaluate("document.activeElement.tagName") == "MAIN"
    page.keyboard.press("Tab")  # on from the main content: the dashboard's first link
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
