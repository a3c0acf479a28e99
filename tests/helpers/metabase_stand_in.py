"""A stand-in for Metabase's API, enforcing the parts the provisioning relies on (Metabase cannot run here).

Each rule cites the Metabase source file it comes from (paths as of v0.54; several moved in later versions). A
dashcard's query runs on real PostgreSQL, its SQL rendered the way Metabase renders a native question's variables.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import uuid
from contextlib import closing

import psycopg2
from flask import Flask, abort, jsonify, request

# A few of the passwords Metabase refuses as common (resources/common_passwords.txt, used by
# src/metabase/util/password.clj `is-uncommon?`), enough for the tests.
COMMON_PASSWORDS = {"password1", "abc123", "qwerty123", "letmein1"}


# src/metabase/lib/schema/template_tag.cljc `::type`: a native question's template tag is one of these.
TEMPLATE_TAG_TYPES = {"snippet", "card", "dimension", "number", "text", "date"}
RAW_VALUE_TAG_TYPES = {"number", "text", "date", "boolean"}  # same file, `raw-value-template-tag-types`
# src/metabase/lib/schema/parameter.cljc `types`: which template-tag types each dashboard parameter type may fill
# (`:allowed-for`), checked when the question runs. Only the raw-value tag types matter here; the rest of the map
# is listed so that any other parameter type is known but fills no raw-value tag.
ALLOWED_FOR = {
    "number": {"number"}, "text": {"text"}, "date": {"date"}, "boolean": {"boolean"}, "date/single": {"date"},
    "number/=": {"number"}, "string/=": {"text"}, "boolean/=": {"boolean"}, "category": RAW_VALUE_TAG_TYPES,
    **{t: set() for t in ("id", "location/city", "location/state", "location/zip_code", "location/country",
                          "date/range", "date/month-year", "date/quarter-year", "date/relative", "date/all-options",
                          "temporal-unit", "number/!=", "number/<=", "number/>=", "number/between", "string/!=",
                          "string/contains", "string/does-not-contain", "string/ends-with", "string/starts-with")},
}
_TAG = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def is_multi_select(parameter: dict) -> bool:
    """What Metabase's dashboard offers a person for this filter: several values unless the parameter says not
    (frontend/src/metabase/parameters/utils/dashboards.ts `getIsMultiSelect`: `isMultiSelect == null ? true`)."""
    return parameter.get("isMultiSelect") is not False


class QueryFailed(Exception):
    pass


def render_native(sql: str, values: dict[str, object]) -> tuple[str, list]:
    """A native question's SQL with a placeholder for each value, as Metabase renders it (its `?` is `%s` here, for
    psycopg2, and a literal `%` is doubled):
    - an optional clause `[[…]]` is kept only when every variable in it has a value, and a variable outside one
      must have a value (src/metabase/driver/sql/parameters/substitute.clj `substitute-optional`, `substitute`);
    - a list of values becomes `?, ?` joined by commas, so `status = {{status}}` with two values is
      `status = ?, ?` (src/metabase/driver/sql/parameters/substitution.clj, `->replacement-snippet-info` for
      `IPersistentVector`)."""
    args: list = []

    def variables(fragment: str, optional: bool) -> str | None:
        out, position = [], 0
        for match in _TAG.finditer(fragment):
            name = match.group(1)
            if name not in values:
                if optional:
                    return None
                raise QueryFailed(f"Cannot run the query: missing required parameters: #{{{name!r}}}")
            value = values[name]
            items = value if isinstance(value, list) else [value]
            out += [fragment[position:match.start()].replace("%", "%%"), ", ".join("%s" for _ in items)]
            args.extend(items)
            position = match.end()
        return "".join(out) + fragment[position:].replace("%", "%%")

    rendered, position = [], 0
    for match in re.finditer(r"\[\[(.*?)\]\]", sql, re.S):
        rendered.append(variables(sql[position:match.start()], optional=False))
        kept = variables(match.group(1), optional=True)
        rendered.append(kept or "")
        position = match.end()
    rendered.append(variables(sql[position:], optional=False))
    return "".join(rendered).strip(), args


def _raw_value(tag_type: str, value):
    """A value as Metabase binds it for a raw-value tag: a date tag's text is parsed as a date
    (src/metabase/driver/sql/parameters/substitution.clj, `maybe-parse-temporal-literal`)."""
    items = value if isinstance(value, list) else [value]
    if tag_type == "date":
        try:
            items = [datetime.date.fromisoformat(str(item)) for item in items]
        except ValueError as e:
            raise QueryFailed(f"Don't know how to parse {value!r} as a temporal literal") from e
    elif tag_type == "number":
        items = [float(item) for item in items]
    return items if isinstance(value, list) else items[0]


def check_template_tags(tags: dict) -> str | None:
    """src/metabase/lib/schema/template_tag.cljc: a known `type`, a non-blank `name` equal to its key and a
    `display-name`; `dimension` only on a field-filter tag."""
    for key, tag in tags.items():
        if tag.get("type") not in TEMPLATE_TAG_TYPES:
            return f"template tag {key!r}: type {tag.get('type')!r} is not one of {sorted(TEMPLATE_TAG_TYPES)}"
        if tag.get("name") != key or not str(key).strip():
            return "keys in template tag map must match the :name of their values"
        if not str(tag.get("display-name") or "").strip():
            return f"template tag {key!r}: display-name must be a non-blank string"
        if tag["type"] in RAW_VALUE_TAG_TYPES and "dimension" in tag:
            return ":dimension is only allowed for :type :dimension template tags"
    return None


def card_problem(body: dict) -> str | None:
    """What Metabase refuses in a card's body (POST or PUT), if anything."""
    if "dataset_query" not in body:
        return None
    return check_template_tags(body["dataset_query"]["native"].get("template-tags") or {})


# src/metabase/api/database.clj: `mi/to-json :model/Database` shows every sensitive detail (`default-sensitive-fields`:
# :password :pass :tunnel-pass …) as `protected-password`; `upsert-sensitive-fields` keeps the stored value when a
# PUT sends that placeholder back.
PROTECTED_PASSWORD = "**MetabasePass**"
SENSITIVE = ("password", "pass", "tunnel-pass")


def shown_database(database: dict) -> dict:
    details = {k: PROTECTED_PASSWORD if k in SENSITIVE else v for k, v in database.get("details", {}).items()}
    return {**database, "details": details}


def normalised_card(card: dict) -> dict:
    """A card as GET /api/card/:id shows it after Metabase's normalisation on save and read.

    src/metabase/models/interface.clj `transform-metabase-query` runs src/metabase/legacy_mbql/normalize.cljc
    `normalize` in and out: `normalize-template-tags` does `(assoc :name tag-name)`, tag keys go through
    `normalize-token` (lower case, `_` to `-`), and a `dimension` tag gets `:widget-type :category`.
    `transform-visualization-settings` (`normalize-visualization-settings`, then `migrate-viz-settings`) adds the
    settings' `version`. And the card carries many more keys than were sent."""
    card = json.loads(json.dumps(card))
    native = (card.get("dataset_query") or {}).get("native") or {}
    tags = {}
    for name, tag in (native.get("template-tags") or {}).items():
        tag = {k.lower().replace("_", "-"): v for k, v in tag.items()}
        tag["name"] = name
        if tag.get("type") == "dimension":
            tag.setdefault("widget-type", "category")
        tags[name] = tag
    if native:
        native["template-tags"] = tags
    card["visualization_settings"] = {**(card.get("visualization_settings") or {}), "version": 2}
    return {**card, "archived": False, "result_metadata": None, "creator_id": 1, "query_type": "native"}


class MetabaseState:
    def __init__(self, syncs_before_complete: int = 2, sync_outcome: str = "complete",
                 database_url: str | None = None, reader_password: str = "reader"):
        self.setup_token: str | None = str(uuid.uuid4())
        self.admin: dict | None = None
        self.sessions: set[str] = set()
        self.ids = itertools.count(1)
        self.databases: dict[int, dict] = {}
        self.collections: dict[int, dict] = {}
        self.cards: dict[int, dict] = {}
        self.dashboards: dict[int, dict] = {}
        self.syncs_before_complete = syncs_before_complete
        self.sync_outcome = sync_outcome  # "complete", or "aborted" as Metabase marks a sync it gave up
        self.writes: list[str] = []  # "POST /api/card", … (logins are not writes)
        # Where the dashcards' queries run: the test's PostgreSQL, whatever host the provisioning gave Metabase.
        self.database_url = database_url
        # The reader role's password as PostgreSQL has it: the health check connects with the stored details.
        self.reader_password = reader_password


def stand_in(state: MetabaseState) -> Flask:
    app = Flask("metabase-stand-in")

    def signed_in():
        if request.headers.get("X-Metabase-Session") not in state.sessions:
            abort(401)

    def wrote():
        state.writes.append(f"{request.method} {request.url_rule.rule}")

    @app.get("/api/health")
    def health():
        return {"status": "ok"}

    @app.get("/api/session/properties")
    def properties():
        return {"has-user-setup": state.admin is not None, "setup-token": state.setup_token}

    @app.post("/api/setup")
    def setup():
        body = request.get_json()
        if state.setup_token is None or body.get("token") != state.setup_token:
            abort(403)  # the token works once
        # src/metabase/util/password.clj `is-valid?`, complexity :normal: 6 characters, a digit, not common.
        password = body["user"]["password"]
        if len(password) < 6 or not any(c.isdigit() for c in password) or password.lower() in COMMON_PASSWORDS:
            return {"errors": {"password": "password is too common."}}, 400
        state.setup_token = None
        state.admin = body["user"]
        session = str(uuid.uuid4())
        state.sessions.add(session)
        wrote()
        return {"id": session}

    @app.post("/api/session")
    def login():
        body = request.get_json()
        if not state.admin or (body["username"], body["password"]) != (state.admin["email"],
                                                                      state.admin["password"]):
            abort(401)
        session = str(uuid.uuid4())
        state.sessions.add(session)
        return {"id": session}

    @app.get("/api/database")
    def databases():
        signed_in()
        return {"data": [shown_database(d) for d in state.databases.values()]}

    @app.post("/api/database")
    def add_database():
        signed_in()
        wrote()
        database = {**request.get_json(), "id": next(state.ids), "initial_sync_status": "incomplete", "polls": 0}
        state.databases[database["id"]] = database
        return database

    @app.get("/api/database/<int:database_id>")
    def database(database_id):
        signed_in()
        database = state.databases.get(database_id) or abort(404)
        database["polls"] += 1
        if database["polls"] > state.syncs_before_complete:
            database["initial_sync_status"] = state.sync_outcome
        return shown_database(database)

    @app.get("/api/database/<int:database_id>/healthcheck")
    def database_health(database_id):
        """src/metabase/api/database.clj `GET /:id/healthcheck`: whether the database can connect now, with the
        details Metabase stores."""
        signed_in()
        database = state.databases.get(database_id) or abort(404)
        if database["details"].get("password") != state.reader_password:
            return {"status": "error", "message": "password authentication failed for user \"metabase_reader\""}
        return {"status": "ok"}

    @app.put("/api/database/<int:database_id>")
    def update_database(database_id):
        signed_in()
        database = state.databases.get(database_id) or abort(404)
        wrote()
        sent = request.get_json().get("details") or {}
        database["details"].update({k: v for k, v in sent.items() if v != PROTECTED_PASSWORD})
        return shown_database(database)

    @app.get("/api/collection")
    def collections():
        signed_in()
        return jsonify(list(state.collections.values()))

    @app.post("/api/collection")
    def add_collection():
        signed_in()
        wrote()
        collection = {**request.get_json(), "id": next(state.ids), "archived": False}
        state.collections[collection["id"]] = collection
        return collection

    @app.get("/api/collection/<int:collection_id>/items")
    def items(collection_id):
        signed_in()
        models = set(request.args.getlist("models"))
        found = [{"id": c["id"], "name": c["name"], "model": "card"} for c in state.cards.values()
                 if c["collection_id"] == collection_id and "card" in models]
        found += [{"id": d["id"], "name": d["name"], "model": "dashboard"} for d in state.dashboards.values()
                  if d["collection_id"] == collection_id and "dashboard" in models]
        return {"data": found}

    @app.post("/api/card")
    def add_card():
        signed_in()
        body = request.get_json()
        if body["dataset_query"]["database"] not in state.databases:
            abort(400)
        if problem := card_problem(body):
            return {"message": problem}, 400
        wrote()
        card = {**body, "id": next(state.ids)}
        state.cards[card["id"]] = card
        return card

    @app.get("/api/card/<int:card_id>")
    def card(card_id):
        signed_in()
        return normalised_card(state.cards.get(card_id) or abort(404))

    @app.put("/api/card/<int:card_id>")
    def update_card(card_id):
        signed_in()
        card = state.cards.get(card_id) or abort(404)
        body = request.get_json()
        if problem := card_problem(body):
            return {"message": problem}, 400
        wrote()
        card.update(body)
        return card

    @app.post("/api/dashboard")
    def add_dashboard():
        signed_in()
        wrote()
        dashboard = {**request.get_json(), "id": next(state.ids), "dashcards": [], "parameters": []}
        state.dashboards[dashboard["id"]] = dashboard
        return dashboard

    @app.get("/api/dashboard/<int:dashboard_id>")
    def dashboard(dashboard_id):
        signed_in()
        return state.dashboards.get(dashboard_id) or abort(404)

    @app.put("/api/dashboard/<int:dashboard_id>")
    def update_dashboard(dashboard_id):
        signed_in()
        dashboard = state.dashboards.get(dashboard_id) or abort(404)
        body = request.get_json()
        for parameter in body.get("parameters") or []:  # src/metabase/lib/schema/parameter.cljc `::type`
            if parameter.get("type") not in ALLOWED_FOR:
                return {"message": f"parameter {parameter.get('slug')!r}: {parameter.get('type')!r} is not a "
                                   "valid parameter type"}, 400
        wrote()
        if "dashcards" in body:  # the list replaces the layout: a missing dashcard is deleted, id < 0 is new
            existing = {dc["id"] for dc in dashboard["dashcards"]}
            # src/metabase/api/dashboard.clj `update-dashboard` (src/metabase/dashboards_rest/api.clj from v0.55):
            # once the dashboard has tabs, a dashcard without `dashboard_tab_id` fails the whole PUT; the `tabs`
            # of the body then replace the dashboard's, so tabs left out are deleted with their dashcards.
            if dashboard.get("tabs") and not all(dc.get("dashboard_tab_id") is not None
                                                 for dc in body["dashcards"]):
                return {"message": "This dashboard has tab, makes sure every card has a tab"}, 400
            dashboard["tabs"] = [dict(tab) for tab in body.get("tabs") or []]
            tab_ids = {tab["id"] for tab in dashboard["tabs"]}
            replaced = []
            for dc in body["dashcards"]:
                if dc["card_id"] not in state.cards or (dc["id"] > 0 and dc["id"] not in existing):
                    abort(400)
                if dc.get("dashboard_tab_id") is not None and dc["dashboard_tab_id"] not in tab_ids:
                    abort(400)  # a tab that is not the dashboard's (a foreign key in Metabase's database)
                replaced.append({**dc, "id": dc["id"] if dc["id"] > 0 else next(state.ids)})
            dashboard["dashcards"] = replaced
        if "parameters" in body:
            dashboard["parameters"] = body["parameters"]
        return dashboard

    @app.post("/api/dashboard/<int:dashboard_id>/dashcard/<int:dashcard_id>/card/<int:card_id>/query")
    def run_dashcard(dashboard_id, dashcard_id, card_id):
        """Runs a dashcard's question with the dashboard's filter values, as the dashboard page does. Metabase
        answers 202 with `status: failed` and the database's error when the SQL fails."""
        signed_in()
        dashboard = state.dashboards.get(dashboard_id) or abort(404)
        dashcard = next((dc for dc in dashboard["dashcards"] if dc["id"] == dashcard_id), None) or abort(404)
        card = state.cards.get(card_id) or abort(404)
        native = card["dataset_query"]["native"]
        tags = native.get("template-tags") or {}
        targets = {m["parameter_id"]: m["target"] for m in dashcard.get("parameter_mappings") or []}
        values = {}
        try:
            for parameter in request.get_json().get("parameters") or []:
                if parameter.get("value") in (None, [], ""):
                    continue
                target = parameter.get("target") or targets.get(parameter["id"])
                if not target:
                    continue  # a filter not wired to this card does not reach its question
                tag = tags[target[1][1]]
                if tag["type"] not in ALLOWED_FOR.get(parameter["type"], set()):
                    # src/metabase/lib/schema/parameter.cljc `:allowed-for`
                    raise QueryFailed(f"Invalid parameter type {parameter['type']} for parameter "
                                      f"{tag['name']!r} of type {tag['type']}")
                values[tag["name"]] = _raw_value(tag["type"], parameter["value"])
            sql, args = render_native(native["query"], values)
            with closing(psycopg2.connect(state.database_url)) as conn, conn.cursor() as cursor:
                cursor.execute(sql, args)
                rows = cursor.fetchall()
        except (QueryFailed, psycopg2.Error) as e:
            return {"status": "failed", "error": str(e).strip()}, 202
        return {"status": "completed", "row_count": len(rows),
                "data": {"rows": [[str(v) for v in row] for row in rows]}}, 202

    return app
