"""The cells of the CSV files the app writes: never a formula a spreadsheet would run."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csv_importer.views.imports import FORMULA_STARTS, cell


@pytest.mark.parametrize("value", ["=1+2", "+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx",
                                   "\uff1d1+2", "\uff0b1", "\uff0d1", "\uff20SUM(A1)"])
def test_a_cell_that_starts_like_a_formula_is_written_as_text(value):
    assert cell(value) == "'" + value


@given(st.text() | st.integers() | st.none())
def test_no_cell_starts_like_a_formula_and_every_one_reads_back_as_it_was(value):
    written = cell(value)

    assert written[:1] not in FORMULA_STARTS
    original = "" if value is None else str(value)
    assert written in (original, "'" + original)
