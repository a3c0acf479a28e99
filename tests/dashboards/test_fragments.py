"""What questions share is written once, with the totals they read (payments_core/totals/questions/), and put in
when a question is loaded: Metabase, the built-in dashboard and the tests all receive the same plain SQL."""

import shutil

import pytest

from dashboards.questions import DEFINITIONS, load_dashboard, load_question
from payments_core.totals import QUESTION_FRAGMENTS

QUESTIONS = sorted(p.stem for p in (DEFINITIONS / "questions").glob("*.yaml"))


@pytest.mark.parametrize("name", QUESTIONS)
def test_every_question_loads_as_plain_sql_with_nothing_left_to_fill(name):
    sql = load_question(name).sql
    assert "{{>" not in sql and "${" not in sql


def test_top_senders_and_receivers_are_one_template_and_differ_only_in_their_side():
    senders, receivers = load_question("top_senders").sql, load_question("top_receivers").sql
    assert not (DEFINITIONS / "questions" / "top_senders.sql").exists()
    assert senders.replace("sent", "received").replace("sender", "receiver") == receivers
    assert "sender_id" in senders and "sent_volume" in senders and "received" not in senders


def test_the_aggregate_questions_share_one_source_of_daily_slices():
    shared = (QUESTION_FRAGMENTS / "daily_slices.sql").read_text()
    users = [name for name in QUESTIONS if shared in load_question(name).sql]
    assert len(users) == 6
    for name in users:
        assert shared not in (DEFINITIONS / "questions" / f"{name}.sql").read_text()


def test_a_missing_fragment_or_value_is_named(tmp_path):
    definitions, fragments = tmp_path / "metabase", tmp_path / "fragments"
    shutil.copytree(DEFINITIONS, definitions)
    shutil.copytree(QUESTION_FRAGMENTS, fragments)
    (fragments / "daily_slices.sql").unlink()
    with pytest.raises(ValueError, match=r"questions/\w+ uses the fragment daily_slices.sql, which is missing"):
        load_dashboard(definitions, fragments)

    meta = definitions / "questions" / "top_senders.yaml"
    meta.write_text(meta.read_text().replace("  party: sender\n", ""))
    with pytest.raises(ValueError, match=r"questions/top_senders.yaml fills no 'party' in its template"):
        load_question("top_senders", definitions, fragments)
