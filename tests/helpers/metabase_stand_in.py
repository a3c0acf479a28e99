"""A stand-in for Metabase's API, enforcing the parts the provisioning relies on (Metabase cannot run here)."""

from __future__ import annotations

import itertools
import uuid

from flask import Flask, abort, jsonify, request

# A few of the passwords Metabase refuses as common (resources/common_passwords.txt, used by
# src/metabase/util/password.clj `is-uncommon?`), enough for the tests.
COMMON_PASSWORDS = {"password1", "abc123", "qwerty123", "letmein1"}


class MetabaseState:
    def __init__(self, syncs_before_complete: int = 2, sync_outcome: str = "complete"):
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
        return {"data": list(state.databases.values())}

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
        return database

    @app.put("/api/database/<int:database_id>")
    def update_database(database_id):
        signed_in()
        database = state.databases.get(database_id) or abort(404)
        wrote()
        database["details"].update(request.get_json().get("details") or {})
        return database

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
        wrote()
        card = {**body, "id": next(state.ids)}
        state.cards[card["id"]] = card
        return card

    @app.get("/api/card/<int:card_id>")
    def card(card_id):
        signed_in()
        return state.cards.get(card_id) or abort(404)

    @app.put("/api/card/<int:card_id>")
    def update_card(card_id):
        signed_in()
        card = state.cards.get(card_id) or abort(404)
        wrote()
        card.update(request.get_json())
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
        wrote()
        if "dashcards" in body:  # the list replaces the layout: a missing dashcard is deleted, id < 0 is new
            existing = {dc["id"] for dc in dashboard["dashcards"]}
            tab_ids = {tab["id"] for tab in dashboard.get("tabs") or []}
            replaced = []
            for dc in body["dashcards"]:
                if dc["card_id"] not in state.cards or (dc["id"] > 0 and dc["id"] not in existing):
                    abort(400)
                # Once a dashboard has tabs, every dashcard names one of them (the failure the issue describes on
                # a dashboard given a tab by hand; not yet checked against Metabase's own source).
                if tab_ids and dc.get("dashboard_tab_id") not in tab_ids:
                    return {"message": "dashcards need a dashboard_tab_id when the dashboard has tabs"}, 400
                replaced.append({**dc, "id": dc["id"] if dc["id"] > 0 else next(state.ids)})
            dashboard["dashcards"] = replaced
        if "parameters" in body:
            dashboard["parameters"] = body["parameters"]
        return dashboard

    return app
