"""Whatever a person or a program puts in an address or a filter, the answer is a page or a clear 400/404,
never a 500."""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.helpers.known_data import ALICE, IMPORT_ID

any_text = st.text(st.characters(codec="utf-8"), max_size=30)
FILTERS = ["username", "currency", "status", "date_from", "date_to", "page", "before", "before_id"]
PAGING = ["duplicate_after", "suspicious_after", "malformed_before", "suspicious_before"]


@pytest.mark.parametrize("url", ["/dashboard?username=%00", "/dashboard/suspicious?status=%01",
                                 "/dashboard/users/%00", "/imports?%00=1"])
def test_a_control_character_in_an_address_or_filter_is_a_400_naming_it(importer, url):
    response = importer.get(url)

    assert response.status_code == 400
    assert "which no page uses" in response.text
    assert ("U+0000" in response.text) or ("U+0001" in response.text)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILTERS), value=any_text,
       path=st.sampled_from(["/dashboard", "/dashboard/suspicious", "/dashboard/questions/top_senders", "/imports",
                             "/"]))
def test_any_filter_value_gives_a_page_or_a_clear_refusal(importer, name, value, path):
    response = importer.get(path, query_string={name: value})

    assert response.status_code in (200, 400), (response.status_code, response.text[:300])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=any_text.filter(lambda t: t not in ("", ".", "..")),
       prefix=st.sampled_from(["/dashboard/users/", "/imports/", "/imports/again/"]))
def test_any_path_segment_gives_a_page_or_a_clear_refusal(importer, segment, prefix):
    response = importer.get(prefix + quote(segment, safe=""))

    assert response.status_code in (200, 308, 400, 404, 405), (response.status_code, response.text[:300])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(PAGING + FILTERS), value=any_text | st.integers().map(str))
def test_any_page_position_of_an_import_gives_a_page_or_a_clear_refusal(importer, known, name, value):
    response = importer.get(f"/imports/{IMPORT_ID}", query_string={name: value})

    assert response.status_code in (200, 400), (response.status_code, response.text[:300])


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILTERS), value=any_text)
def test_any_page_position_of_a_users_history_gives_a_page_or_a_clear_refusal(importer, known, name, value):
    response = importer.get(f"/dashboard/users/{ALICE.username}", query_string={name: value})

    assert response.status_code in (200, 400), (response.status_code, response.text[:300])


moments = st.builds(
    lambda day, hours, minutes, seconds, sign: f"2025-07-{day:02d}T10:00:00{sign}{hours:02d}:{minutes:02d}{seconds}",
    st.integers(1, 28), st.integers(0, 99), st.integers(0, 99),
    st.sampled_from(["", ":15", ":15.123", ":00"]), st.sampled_from("+-"))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=moments, path=st.sampled_from(["/imports", f"/dashboard/users/{ALICE.username}"]))
def test_a_page_position_with_any_offset_gives_a_page_or_a_clear_refusal(importer, known, moment, path):
    # PostgreSQL takes offsets up to ±15:59 and without seconds; Python's reader took more, which was a 500.
    response = importer.get(path, query_string={"before": moment, "before_id": str(IMPORT_ID)})

    assert response.status_code in (200, 400), (moment, response.status_code, response.text[:300])


@pytest.mark.parametrize("since", ["2025-07-07T10:00:00+16:00", "2025-07-07T10:00:00+05:30:15.123",
                                   "2025-07-07T10:00:00-23:59"])
def test_the_alert_stream_takes_any_offset_or_refuses_it_clearly(importer, since):
    response = importer.get("/dashboard/alerts", query_string={"since": since}, buffered=False)
    try:
        assert response.status_code in (200, 400), (since, response.status_code)
        if response.status_code == 200:
            assert next(response.response).startswith(b"retry:")
            assert b"event: alert" in next(response.response), "the first counts, read from the database"
    finally:
        response.close()


# Every parameter name a route reads, and names none reads.
PARAMETERS = sorted({*FILTERS, *PAGING, "since", "rows", "token", "file", "next", "username", "password",
                     "csrf_token", "x", ""})


def every_route(app) -> list[tuple[str, str]]:
    """(method, rule) of every route of the app, with its path variables as `{name}`."""
    found = []
    for rule in app.url_map.iter_rules():
        # Streams are tested above; signing out takes no parameter, and would end the session the others use.
        if rule.endpoint.endswith("static") or rule.endpoint in ("dashboard.alerts", "auth.logout",
                                                                  "auth.logout_everywhere"):
            continue
        path = rule.rule.replace("<uuid:", "<").replace("<path:", "<")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_route_with_any_parameters_answers_without_a_500(importer, known, data):
    method, rule = data.draw(st.sampled_from(every_route(importer.application)), label="route")
    path = rule
    for name in ("import_id", "token", "name", "username"):
        value = data.draw(st.sampled_from([str(IMPORT_ID), ALICE.username])
                          | any_text.map(lambda t: t if t not in ("", ".", "..") else "x"), label=name)
        path = path.replace(f"<{name}>", quote(value, safe=""))
    given_values = data.draw(st.dictionaries(st.sampled_from(PARAMETERS), any_text, max_size=4), label="values")

    if method == "GET":
        response = importer.get(path, query_string=given_values)
    else:
        response = importer.post(path, data={"csrf_token": importer.token, **given_values})

    event(f"{method} {rule}: {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code < 500, (method, path, given_values, response.status_code, response.text[:300])
