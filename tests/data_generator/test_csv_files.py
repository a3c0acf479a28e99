"""The sample CSV files keep their promises, and the committed ones are what the command makes."""

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from data_generator.csv_files import COLUMNS, SAMPLE_FILES, THRESHOLD, write_samples
from payments_core.contract import ImportRow
from payments_core.db.seed import seed_users

COMMITTED = Path(__file__).resolve().parents[2] / "csvs"
USERNAMES = {u.username for u in seed_users()}


def rows(name):
    with open(COMMITTED / name, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == COLUMNS
        return [tuple(r) for r in reader]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csvs")
    write_samples(folder)
    return folder


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda s: s.name)
def test_the_committed_file_is_exactly_what_the_command_makes(sample, regenerated):
    assert (regenerated / sample.name).read_bytes() == (COMMITTED / sample.name).read_bytes(), (
        "run `.venv/bin/payments sample-csvs` and commit csvs/")


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda s: s.name)
def test_every_row_is_valid_and_refers_to_seed_users(sample):
    for line, row in enumerate(rows(sample.name), start=2):
        parsed = ImportRow.model_validate(dict(zip(COLUMNS, row, strict=True)))
        assert {parsed.username_sender, parsed.username_receiver} <= USERNAMES, line
        assert row[4].endswith(" UTC") and len(row[4]) == len("2025-07-07 01:42:05 UTC"), line


def amounts(name):
    return [Decimal(r[2]) for r in rows(name)]


def test_regular_transactions_are_unique_and_none_is_above_the_threshold():
    found = rows("regular_transactions.csv")

    assert len(found) == 1000
    assert len(set(found)) == len(found)
    assert max(amounts("regular_transactions.csv")) <= THRESHOLD


def test_suspicious_transactions_are_all_above_the_threshold():
    assert len(rows("suspicious_transactions.csv")) == 50
    assert min(amounts("suspicious_transactions.csv")) > THRESHOLD


def test_suspicious_duplicated_transactions_have_both_duplicates_and_suspicious_rows():
    found = rows("suspicious_duplicated_transactions.csv")
    repeated = {row: n for row, n in Counter(found).items() if n > 1}

    assert len(found) == 200
    assert len(repeated) >= 5
    assert sum(Decimal(r[2]) > THRESHOLD for r in set(found)) >= 10
    assert any(Decimal(r[2]) > THRESHOLD for r in repeated), "a suspicious row duplicated too"


def test_the_huge_load_has_100000_unique_rows():
    found = rows("huge_load_transactions.csv")

    assert len(found) == 100_000
    assert len(set(found)) == 100_000
    above = sum(Decimal(r[2]) > THRESHOLD for r in found)
    assert 500 < above < 1500
