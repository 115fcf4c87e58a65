"""How developers see capacity: a count of GPUs, "Available" without a count, or "Sold out".

An offer whose provider publishes no count (nodes_available is None) is available: it must never
read as sold out, nor as a number the provider did not give.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.models import OfferSnapshot
from marketplace.templatetags.marketplace_charts import step_chart_geometry
from portal.testing import make_offer

pytestmark = pytest.mark.django_db


def capacity_cell(page: str, offer) -> str:
    row = re.search(rf'<tr class="offer-row[^"]*" data-offer="{offer.pk}">.*?</tr>', page, re.S).group(0)
    return re.search(r'<td class="num capacity"[^>]*>(.*?)</td>', row, re.S).group(1)


@pytest.fixture
def three(acme, acme_fra):
    """The same GPU three ways: 4 nodes free, a count not published, sold out."""
    return {
        "counted": make_offer(acme, acme_fra, nodes_available=4, nodes_total=16),
        "unknown": make_offer(acme, acme_fra, nodes_available=None, nodes_total=None),
        "sold_out": make_offer(acme, acme_fra, nodes_available=0, nodes_total=16),
    }


def test_the_catalog_row_says_how_much_is_available(client, three):
    page = client.get("/?sold_out=1").content.decode()

    assert "32" in capacity_cell(page, three["counted"]) and "4 / 16 nodes" in capacity_cell(page, three["counted"])
    unknown = capacity_cell(page, three["unknown"])
    assert "Available" in unknown and "count not published" in unknown and "0" not in unknown
    assert "Sold out" in capacity_cell(page, three["sold_out"])
    rows = dict(re.findall(r'<tr class="offer-row([^"]*)" data-offer="(\d+)"', page))
    classes = {pk: cls for cls, pk in rows.items()}
    assert "sold-out" in classes[str(three["sold_out"].pk)]
    assert "sold-out" not in classes[str(three["unknown"].pk)]


def test_the_offer_page_of_an_unknown_count(client, three):
    page = client.get(three["unknown"].get_absolute_url()).content.decode()

    assert "Available" in page and "the provider does not publish how many" in page
    assert "Sold out" in client.get(three["sold_out"].get_absolute_url()).content.decode()


def test_the_history_chart_shades_the_time_a_count_was_not_published(client, three):
    offer = three["unknown"]
    start = timezone.now() - timedelta(days=3)
    for days, nodes in [(0, 2), (1, None), (2, 3)]:
        OfferSnapshot.objects.create(
            offer=offer, recorded_at=start + timedelta(days=days), price_per_gpu_hour="2.50", nodes_available=nodes
        )

    page = client.get(offer.get_absolute_url()).content.decode()

    assert page.count("<svg") == 2
    assert 'class="gap"' in page and "Shaded: available, count not published" in page


class TestChartGeometry:
    def test_an_unknown_value_breaks_the_line_into_a_gap(self):
        start = timezone.now()
        hour = timedelta(hours=1)
        chart = step_chart_geometry([(start, 2), (start + hour, None), (start + 2 * hour, 4)], end=start + 3 * hour)

        assert len(chart.lines) == 2
        first = [tuple(map(float, point.split(","))) for point in chart.lines[0].polyline.split()]
        assert [x for x, _y in first] == [64.0, 252.0]  # 2 holds until the unknown span starts
        assert [(gap.start, gap.end) for gap in chart.gaps] == [(252.0, 440.0)]
        assert chart.y_ticks[-1].value == pytest.approx(4.4)  # the scale comes from known values only

    def test_an_unknown_value_up_to_now_leaves_a_gap_to_the_end(self):
        start = timezone.now()
        chart = step_chart_geometry([(start, 8), (start + timedelta(hours=1), None)], end=start + timedelta(hours=2))

        assert len(chart.lines) == 1
        assert chart.gaps[-1].end == 628.0

    def test_nothing_but_unknown_values_draws_no_line_and_no_scale(self):
        chart = step_chart_geometry([(timezone.now(), None)], end=timezone.now() + timedelta(hours=1))

        assert (chart.lines, chart.y_ticks, len(chart.gaps)) == ([], [], 1)

    def test_known_values_draw_as_before(self):
        start = timezone.now()
        chart = step_chart_geometry([(start, 2), (start + timedelta(hours=1), 1)], end=start + timedelta(hours=2))

        assert (len(chart.lines), chart.gaps) == (1, [])
        assert chart.polyline == chart.lines[0].polyline
