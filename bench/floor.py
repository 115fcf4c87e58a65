"""The floor: the least work that shows a page of offers, to compare the catalog against.

One indexed SELECT (the listed offers of approved providers, cheapest first in the reference
currency, as the catalog compares prices, with the joins the rows need), no filters, no facets,
no count, rendered with the catalog's own row template. A catalog page can hardly cost less than
this; the benchmark reports its time as a multiple of it.
"""

from django.conf import settings
from django.shortcuts import render

from marketplace.models import Offer
from marketplace.selectors import ROW_RELATIONS


def floor(request):
    # ?per_page=N: the floor of a catalog page of N rows (bounded as the catalog bounds it).
    per_page = request.GET.get("per_page", "")
    size = min(max(int(per_page), 10), 200) if per_page.isdigit() else settings.CATALOG_PAGE_SIZE
    offers = (
        Offer.objects.listed()
        .select_related(*ROW_RELATIONS)  # what the rows show, their connection's last sync included
        .order_by("price_normalized", "id")[:size]
    )
    return render(request, "bench/floor.html", {"offers": offers})
