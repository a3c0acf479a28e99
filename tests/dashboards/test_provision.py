"""Provisioning against a stand-in that enforces the parts of Metabase's API the provisioning relies on."""

import shutil
import threading
import time

import pytest
from werkzeug.serving import make_server

from dashboards import provision as provision_module
from dashboards.metabase_api import MetabaseClient, MetabaseError
from dashboards.provision import Connection, provision
from dashboards.questions import DEFINITIONS, load_dashboard
from tests.helpers.known_data import ALICE, BOB
from tests.helpers.metabase_stand_in import MetabaseState, is_multi_select, stand_in

CONNECTION = Connection(host="postgres", port=5432, dbname="payments", user="metabase_reader", password="reader")


@pytest.fixture
def serve_stand_in():
    """serve_stand_in(state) -> its URL; stopped at the end of the test."""
    servers = []

    def serve(state: MetabaseState) -> str:
        server = make_server("127.0.0.1", 0, stand_in(state), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


@pytest.fixture
def metabase(serve_stand_in):
    state = MetabaseState()
    return state, serve_stand_in(state)


def run(url, definitions=DEFINITIONS):
    return provision(MetabaseClient(url), load_dashboard(definitions), CONNECTION, "admin@payments.local",
                     "a-long-admin-password-1", sync_timeout=10)


def test_a_first_run_sets_up_metabase_and_builds_the_dashboard(metabase):
    state, url = metabase

    result = run(url)

    assert state.setup_token is None and state.admin["email"] == "admin@payments.local"
    [database] = state.databases.values()
    assert database["details"]["user"] == "metabase_reader", "Metabase reads through the read-only role"
    assert database["initial_sync_status"] == "complete", "waited for the sync"
    [collection] = state.collections.values()
    assert collection["name"] == "Payments platform"
    assert len(state.cards) == len(load_dashboard().cards) == 14
    [dashboard] = state.dashboards.values()
    assert dashboard["name"] == "Payments overview"
    assert {p["slug"] for p in dashboard["parameters"]} == {"date_from", "date_to", "username", "currency", "status"}
    assert len(dashboard["dashcards"]) == 14
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

    # Though Metabase shows its cards normalised (more keys than were sent) and never shows the stored password.
    assert state.writes[writes:] == [], "nothing written"
    assert second.changes == []


def test_a_new_reader_password_reaches_metabase_on_the_next_run(metabase):
    state, url = metabase
    run(url)
    writes = len(state.writes)
    state.reader_password = "new-one"  # the role's password changed: Metabase's stored one fails its health check

    changed = provision(MetabaseClient(url), load_dashboard(), Connection(**{**CONNECTION.__dict__,
                                                                             "password": "new-one"}),
                        "admin@payments.local", "a-long-admin-password-1", sync_timeout=10)

    [database] = state.databases.values()
    assert database["details"]["password"] == "new-one"
    assert state.writes[writes:] == ["PUT /api/database/<int:database_id>"]
    assert changed.changes == ["database 'Payments': connection details updated"]


def test_a_moved_database_host_reaches_metabase_on_the_next_run(metabase):
    state, url = metabase
    run(url)

    provision(MetabaseClient(url), load_dashboard(), Connection(**{**CONNECTION.__dict__, "host": "db2"}),
              "admin@payments.local", "a-long-admin-password-1", sync_timeout=10)

    [database] = state.databases.values()
    assert database["details"]["host"] == "db2" and database["details"]["password"] == "reader"


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
    assert len(dashboard["dashcards"]) == len(load_dashboard().cards) - 1
    assert "Recent imports" not in {state.cards[d["card_id"]]["name"] for d in dashboard["dashcards"]}


def test_wrong_admin_credentials_are_reported_plainly(metabase):
    state, url = metabase
    run(url)

    with pytest.raises(MetabaseError, match="401"):
        provision(MetabaseClient(url), load_dashboard(), CONNECTION, "admin@payments.local", "wrong", 10)


@pytest.mark.parametrize("password", ["password1", "no-digit-in-it"])
def test_an_admin_password_metabase_refuses_is_named(serve_stand_in, password):
    url = serve_stand_in(MetabaseState())

    with pytest.raises(MetabaseError, match="METABASE_ADMIN_PASSWORD must have a digit and not be one of"):
        provision(MetabaseClient(url), load_dashboard(), CONNECTION, "admin@payments.local", password, 10)


def test_an_aborted_sync_fails_at_once_saying_what_to_check(serve_stand_in):
    url = serve_stand_in(MetabaseState(sync_outcome="aborted"))
    started = time.monotonic()

    with pytest.raises(MetabaseError, match="initial sync aborted.*METABASE_DB_HOST"):
        provision(MetabaseClient(url), load_dashboard(), CONNECTION, "admin@payments.local",
                  "a-long-admin-password-1", sync_timeout=600)
    assert time.monotonic() - started < 60, "not the whole sync timeout"


def test_the_settings_refuse_an_admin_password_without_a_digit(monkeypatch, tmp_path):
    from dashboards.settings import MetabaseSettings
    from payments_core.errors import ConfigError
    from payments_core.settings import load

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METABASE_ADMIN_EMAIL", "admin@payments.local")
    monkeypatch.setenv("METABASE_READER_PASSWORD", "reader-password")
    monkeypatch.setenv("METABASE_ADMIN_PASSWORD", "no-digit-in-it")

    with pytest.raises(ConfigError, match="METABASE_ADMIN_PASSWORD is not valid: .*Metabase needs a digit"):
        load(MetabaseSettings)


def test_text_filters_are_single_value_on_the_dashboard_and_stay_so(metabase):
    state, url = metabase
    run(url)

    [dashboard] = state.dashboards.values()
    by_slug = {p["slug"]: p for p in dashboard["parameters"]}
    for slug in ("username", "currency", "status"):
        assert by_slug[slug]["type"] == "string/=" and by_slug[slug]["isMultiSelect"] is False, slug
    assert "isMultiSelect" not in by_slug["date_from"]
    by_slug["status"]["isMultiSelect"] = True  # as if someone ticked "multiple values" by hand
    state.writes.clear()
    run(url)
    assert state.writes == ["PUT /api/dashboard/<int:dashboard_id>"]  # the dashboard only
    [dashboard] = state.dashboards.values()
    assert {p["slug"]: p for p in dashboard["parameters"]}["status"]["isMultiSelect"] is False


def test_a_tab_added_by_hand_keeps_the_next_run_working(metabase):
    state, url = metabase
    run(url)
    [dashboard] = state.dashboards.values()
    dashboard["tabs"] = [{"id": 901, "name": "Overview"}, {"id": 902, "name": "Notes"}]
    for dashcard in dashboard["dashcards"]:
        dashcard["dashboard_tab_id"] = 901
    cards = len(dashboard["dashcards"])
    dashboard["dashcards"].pop()  # and a card taken off by mistake, so that the run must write

    run(url)

    assert len(dashboard["dashcards"]) == cards
    assert {dc["dashboard_tab_id"] for dc in dashboard["dashcards"]} == {901}
    assert [tab["id"] for tab in dashboard["tabs"]] == [901, 902]


# What a person picks in each filter of Metabase's dashboard: two values where the filter lets them.
PICKS = {"date_from": ["2025-07-01"], "date_to": ["2025-07-03"], "username": [ALICE.username, BOB.username],
         "currency": ["USD", "EUR"], "status": ["completed", "pending"]}


def run_dashcard(url, state, dashcard, **picked):
    """The dashcard's question with these filters set as Metabase's dashboard sets them: a text filter's value is a
    list, of one value unless the filter allows several; a date filter's value is the date."""
    client = MetabaseClient(url)
    client.session = next(iter(state.sessions))
    [dashboard] = state.dashboards.values()
    by_slug = {p["slug"]: p for p in dashboard["parameters"]}
    parameters = []
    for slug, values in picked.items():
        parameter = by_slug[slug]
        if parameter["type"].startswith("string/"):
            value = values if is_multi_select(parameter) else values[:1]
        else:
            value = values[0]
        parameters.append({"id": parameter["id"], "type": parameter["type"], "value": value})
    return client.post(f"/api/dashboard/{dashboard['id']}/dashcard/{dashcard['id']}/card/{dashcard['card_id']}"
                       "/query", {"parameters": parameters})


@pytest.fixture
def metabase_on_known_data(serve_stand_in, known, database_url):
    state = MetabaseState(database_url=database_url)
    url = serve_stand_in(state)
    run(url)
    return state, url


def test_every_card_runs_with_every_filter_a_person_can_set(metabase_on_known_data):
    state, url = metabase_on_known_data
    [dashboard] = state.dashboards.values()

    for dashcard in dashboard["dashcards"]:
        mapped = [m["parameter_id"] for m in dashcard["parameter_mappings"]]
        for picked in [{}, *({slug: PICKS[slug]} for slug in mapped), {slug: PICKS[slug] for slug in mapped}]:
            answer = run_dashcard(url, state, dashcard, **picked)
            assert answer["status"] == "completed", (state.cards[dashcard["card_id"]]["name"], picked, answer)

    count = next(dc for dc in dashboard["dashcards"] if state.cards[dc["card_id"]]["name"] == "Transactions")
    assert run_dashcard(url, state, count, **PICKS)["data"]["rows"] == [["1"]], "the values reached the SQL"


def test_a_text_filter_left_multi_select_breaks_its_cards_with_two_values(metabase_on_known_data):
    """What the provisioning prevents: Metabase's default for a text filter lets a person pick two statuses, and
    `status = {{status}}` then renders as `status = ?, ?`."""
    state, url = metabase_on_known_data
    [dashboard] = state.dashboards.values()
    next(p for p in dashboard["parameters"] if p["slug"] == "status")["isMultiSelect"] = True
    status_split = next(dc for dc in dashboard["dashcards"] if state.cards[dc["card_id"]]["name"] == "Status split")

    answer = run_dashcard(url, state, status_split, status=PICKS["status"])

    assert answer["status"] == "failed" and "syntax error" in answer["error"]


def test_a_filter_type_no_question_variable_can_take_is_refused_before_metabase_is_touched(metabase, tmp_path):
    state, url = metabase
    definitions = tmp_path / "metabase"
    shutil.copytree(DEFINITIONS, definitions)
    layout = definitions / "dashboard.yaml"
    layout.write_text(layout.read_text().replace("{slug: status, name: Status, type: string/=}",
                                                 "{slug: status, name: Status, type: string/contains}"))

    with pytest.raises(MetabaseError, match="filter 'status' has type 'string/contains'"):
        run(url, definitions)
    assert state.writes == []


def test_a_question_variable_without_a_filter_is_named(tmp_path):
    definitions = tmp_path / "metabase"
    shutil.copytree(DEFINITIONS, definitions)
    sql = definitions / "questions" / "status_split.sql"
    sql.write_text(sql.read_text().replace("[[AND status = {{status}}]]", "[[AND status = {{state}}]]"))

    with pytest.raises(ValueError, match=r"questions/status_split.sql uses \{\{state\}\}, which no filter"):
        load_dashboard(definitions)


def test_a_template_tag_type_metabase_does_not_know_is_refused_by_name(metabase, monkeypatch):
    state, url = metabase
    monkeypatch.setitem(provision_module.TAG_TYPE_OF_FILTER, "string/=", "string")

    with pytest.raises(MetabaseError, match="400 to POST /api/card: .*template tag '(username|currency|status)'"):
        run(url)
