"""Which statement reads which page (`loaders/base.py`, `reach` and `narrowed`): windows
without a cursor read from the same end share the widest one; each key still gets exactly
the page its own window asks for."""

from typing import Any

from engagement_api.db.pagination import PageRows, Window
from engagement_api.loaders.base import narrowed, reach

NEWEST = Window(limit=0, backward=True)
LAST_TEN = Window(limit=10, backward=True, with_total=True)
FIRST_FIVE = Window(limit=5)
AFTER_CURSOR = Window(limit=5, after=("2026-01-01", "id"))


def test_windows_without_a_cursor_from_the_same_end_are_read_by_the_widest() -> None:
    reached = reach([NEWEST, LAST_TEN, FIRST_FIVE])
    assert reached[NEWEST] == reached[LAST_TEN] == LAST_TEN
    assert reached[FIRST_FIVE] == FIRST_FIVE


def test_a_window_with_a_cursor_is_read_as_it_is() -> None:
    assert reach([AFTER_CURSOR, FIRST_FIVE, Window(limit=50)])[AFTER_CURSOR] == AFTER_CURSOR


def test_a_total_asked_by_one_window_is_counted_for_the_merged_one() -> None:
    merged = reach(
        [Window(limit=20, backward=True), Window(limit=1, backward=True, with_total=True)]
    )
    assert set(merged.values()) == {Window(limit=20, backward=True, with_total=True)}


def test_a_narrowed_page_has_the_rows_and_total_its_own_window_asks_for() -> None:
    rows: list[Any] = [("newest",), ("second",), ("third",)]
    newest: list[Any] = [("newest",)]
    page = PageRows(rows=rows, total=40, has_other_side=False)
    assert narrowed(page, NEWEST) == PageRows(rows=newest, total=0)
    assert narrowed(page, LAST_TEN) is page
