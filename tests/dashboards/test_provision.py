"""Provisioning against a stand-in that enforces the parts of Metabase's API the provisioning relies on."""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from dashboards.metabase_api import MetabaseClient, MetabaseError
from dashboards.provision import Connection, provision
from dashboards.questions import DEFINITIONS, load_dashboard
from tests.helpers.metabase_stand_in import MetabaseState, stand_in

CONNECTION = Connection(host="postgres", port=5432, dbname="payments", user="metabase_reader", password="reader")


@pytest.fixture
def metabase():
    state = MetabaseState()
    server = make_server("127.0.0.1", 0, stand_in(state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def run(url, definitions=DEFINITIONS):
    return provision(MetabaseClient(url), load_dashboard(definitions), CONNECTION, "admin@payments.local",
                     "a-long-admin-password", sync_timeout=10)


def test_a_first_run_sets_up_metabase_and_builds_the_dashboard(metabase):
    state, url = metabase

    result = run(url)

    assert state.setup_token is None and state.admin["email"] == "admin@payments.local"
    [database] = state.databases.values()
    assert database["details"]["user"] == "metabase_reader", "Metabase reads through the read-only role"
    assert database["initial_sync_status"] == "complete", "waited for the sync"
    [collection] = state.collections.values()
    assert collection["name"] == "Payments platform"
    assert len(state.cards) == 11
    [dashboard] = state.dashboards.values()
    assert dashboard["name"] == "Payments overview"
    assert {p["slug"] for p in dashboard["parameters"]} == {"date_from", "date_to", "username", "currency", "status"}
    assert len(dashboard["dashcards"]) == 11
    count = state.cards[result.cards["transaction_count"]]
    mapped = next(dc for dc in dashboard["dashcards"] if dc["card_id"] == count["id"])
    assert {m["parameter_id"] for m in mapped["parameter_mappings"]} == {
        "date_from", "date_to", "username", "currency", "status"}
    assert count["dataset_query"]["native"]["template-tags"]["date_from"]["type"] == "date"


def test_a_second_run_changes_nothing(metabase):
    state, url = metabase
    run(url)
    writes = len(state.writes)

    second = run(url)

    assert state.writes[writes:] == []
    assert second.changes == []


def test_an_edited_sql_file_updates_its_question_in_place(metabase, tmp_path):
    state, url = metabase
    definitions = tmp_path / "metabase"
    shutil.copytree(DEFINITIONS, definitions)
    first = run(url, definitions)
    sql = definitions / "questions" / "status_split.sql"
    sql.write_text(sql.read_text().replace("ORDER BY status", "ORDER BY transactions DESC"))

    second = run(url, definitions)

    assert second.cards == first.cards, "the same questions, no new ones"
    assert second.changes == ["question 'Status split' updated"]
    assert "ORDER BY transactions DESC" in state.cards[first.cards["status_split"]]["dataset_query"]["native"]["query"]


def test_a_card_taken_off_the_layout_is_taken_off_the_dashboard(metabase, tmp_path):
    state, url = metabase
    definitions = tmp_path / "metabase"
    shutil.copytree(DEFINITIONS, definitions)
    run(url, definitions)
    layout = definitions / "dashboard.yaml"
    layout.write_text("\n".join(line for line in layout.read_text().splitlines() if "recent_imports" not in line))

    run(url, definitions)

    [dashboard] = state.dashboards.values()
    assert len(dashboard["dashcards"]) == 10


def test_wrong_admin_credentials_are_reported_plainly(metabase):
    state, url = metabase
    run(url)

    with pytest.raises(MetabaseError, match="401"):
        provision(MetabaseClient(url), load_dashboard(), CONNECTION, "admin@payments.local", "wrong", 10)
