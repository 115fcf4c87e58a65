"""One rule for numbers people read (marketplace/formats.py), in English and French."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from marketplace.formats import count_text, price_l10n, price_text, size_text


@pytest.mark.parametrize(
    ("gb", "english", "french"),
    [
        (512, "512 GB", "512 Go"),
        (2048, "2 TB", None),
        (30720, "30 TB", None),
        (1536, "1.5 TB", None),
        (16000, "16 TB", None),
        (3840, "3.8 TB", None),
    ],
)
def test_sizes_read_in_gb_below_a_thousand_and_in_tb_above(gb, english, french):
    with translation.override("en"):
        assert size_text(gb) == english
    with translation.override("fr"):
        text = size_text(gb)
    assert text == french if french else text.startswith(english.split()[0].replace(".", ","))


def test_prices_keep_two_decimals_or_four_when_they_matter_in_each_language():
    assert [price_text(Decimal(v)) for v in ["2.5", "0.0425", "3"]] == ["2.50", "0.0425", "3.00"]
    with translation.override("fr"):
        assert [price_l10n(Decimal(v)) for v in ["2.5", "0.0425"]] == ["2,50", "0,0425"]
    with translation.override("en"):
        assert price_l10n(Decimal("1234.5")) == "1,234.50"


def test_counts_are_grouped_by_thousands():
    with translation.override("en"):
        assert count_text(10240) == "10,240"
    with translation.override("fr"):
        assert count_text(10240) == "10\u202f240" or count_text(10240) == "10\xa0240"


def test_the_template_filters():
    template = Template(
        "{% load marketplace_tags %}{{ size|size }}|{{ price|price }}|{% gpu_hour_price price 'EUR' %}|{{ n|count }}"
    )
    context = Context({"size": 30720, "price": Decimal("2.1"), "n": 1024})
    with translation.override("en"):
        assert template.render(context) == "30 TB|2.10|2.10 EUR / GPU-hour|1,024"
    with translation.override("fr"):
        assert template.render(context).split("|")[1] == "2,10"
