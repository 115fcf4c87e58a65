"""The helpers every adapter reads answers with (sync/adapters/reading.py)."""

from decimal import Decimal

import pytest

from sync.adapters.base import AdapterError
from sync.adapters.reading import MAX_SKIPPED_SHOWN, BadEntry, read_price, readable


def read_even(item):
    if item % 2:
        raise BadEntry("it is odd")
    return item or None  # 0 stands for an entry ignored on purpose


def read_all(items) -> tuple[list, list[str]]:
    warnings = []
    entries = ((f"numbers[{index}]", item) for index, item in enumerate(items))
    return list(readable(entries, read_even, warnings, what="numbers")), warnings


def test_an_unreadable_entry_is_skipped_with_a_warning_naming_it():
    assert read_all([0, 2, 3, 4]) == ([2, 4], ["numbers[2] skipped: it is odd."])


def test_a_listing_where_no_entry_can_be_read_is_an_error():
    with pytest.raises(AdapterError) as caught:
        read_all([1, 3])

    assert str(caught.value) == "None of the 2 numbers could be read: numbers[0] skipped: it is odd."
    assert caught.value.permanent


def test_an_empty_listing_is_no_error():
    assert read_all([]) == ([], [])


def test_skipped_entries_are_named_up_to_a_limit_then_counted():
    entries, warnings = read_all([2] + [1] * (MAX_SKIPPED_SHOWN + 3))

    assert entries == [2]
    assert warnings[:MAX_SKIPPED_SHOWN] == [f"numbers[{index}] skipped: it is odd." for index in range(1, 11)]
    assert warnings[MAX_SKIPPED_SHOWN:] == ["3 more of the numbers were skipped as unreadable."]


@pytest.mark.parametrize(
    ("value", "price"),
    [(2.49, Decimal("2.49")), ("2.49", Decimal("2.49")), (" 3 ", Decimal("3")), (0, Decimal("0"))],
)
def test_a_price_is_a_number_or_a_numeric_string(value, price):
    assert read_price(value, "price") == price


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, 'its "price" is missing'),
        ("", 'its "price" is missing'),
        ("soon", 'its "price" "soon" is not a price'),
        (-1, 'its "price" -1 is not a price'),
        ("Infinity", 'its "price" "Infinity" is not a price'),
        (True, 'its "price" true is not a price'),
    ],
)
def test_a_price_that_cannot_be_read_is_a_bad_entry(value, message):
    with pytest.raises(BadEntry, match=message):
        read_price(value, "price")


def test_an_optional_price_may_be_missing():
    assert read_price(None, "price", optional=True) is None
