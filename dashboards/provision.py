"""Provisioning Metabase from metabase/: first-run setup, the payments database (through a read-only role), one
collection, its questions and the dashboard. Everything is found by name; a second run changes nothing, and an
edited SQL file updates its question in place.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from .metabase_api import MetabaseClient, MetabaseError
from .questions import Dashboard, Question

__all__ = ["Connection", "Provisioned", "dashboard_parameter", "holds", "provision"]

log = logging.getLogger(__name__)

# The template-tag type a question's `{{variable}}` takes from the dashboard filter of its name: the raw-value tag
# type that Metabase lets each parameter type fill (`:allowed-for` in src/metabase/lib/schema/parameter.cljc).
TAG_TYPE_OF_FILTER = {"date/single": "date", "string/=": "text", "number/=": "number"}
TAG_NAMESPACE = uuid.UUID("0f5e7a3c-3b1d-4c55-9a0e-7d7a1b2c3d4e")


@dataclass(frozen=True)
class Connection:
    """How Metabase reaches the payments database (as Metabase sees it) and with which read-only role."""

    host: str
    port: int
    dbname: str
    user: str
    password: str
    display_name: str = "Payments"


@dataclass
class Provisioned:
    database_id: int = 0
    collection_id: int = 0
    dashboard_id: int = 0
    cards: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)  # what this run created or updated


def provision(client: MetabaseClient, dashboard: Dashboard, connection: Connection, admin_email: str,
              admin_password: str, sync_timeout: float = 600.0) -> Provisioned:
    tag_types = _tag_types(dashboard)
    result = Provisioned()
    _sign_in(client, admin_email, admin_password, result)
    result.database_id = _database(client, connection, result)
    _wait_for_sync(client, result.database_id, sync_timeout)
    result.collection_id = _collection(client, dashboard.collection, result)
    items = client.get(f"/api/collection/{result.collection_id}/items?models=card&models=dashboard")
    items = items["data"] if isinstance(items, dict) else items
    existing = {(item["model"], item["name"]): item["id"] for item in items}
    for name, question in dashboard.questions.items():
        result.cards[name] = _card(client, question, tag_types, result, existing.get(("card", question.title)))
    result.dashboard_id = _dashboard(client, dashboard, result, existing.get(("dashboard", dashboard.name)))
    return result


def _sign_in(client: MetabaseClient, email: str, password: str, result: Provisioned) -> None:
    properties = client.get("/api/session/properties")
    if not properties.get("has-user-setup"):
        try:
            answer = client.post("/api/setup", {
            "token": properties["setup-token"],
                "user": {"email": email, "password": password, "first_name": "Payments", "last_name": "Admin",
                         "site_name": "Payments platform"},
                "prefs": {"site_name": "Payments platform", "site_locale": "en", "allow_tracking": False},
            })
        except MetabaseError as e:
            raise MetabaseError(
                f"Metabase refused its first-run setup ({e}). If it names the password: METABASE_ADMIN_PASSWORD must "
                "have a digit and not be one of Metabase's common passwords; choose another in .env."
            ) from None
        client.session = answer["id"]
        result.changes.append("first-run setup: admin account created")
        return
    client.session = client.post("/api/session", {"username": email, "password": password})["id"]


def _details(connection: Connection) -> dict:
    return {"host": connection.host, "port": connection.port, "dbname": connection.dbname,
            "user": connection.user, "password": connection.password, "ssl": False}


def holds(current, wanted) -> bool:
    """Whether what Metabase shows (`current`) holds everything the provisioning would send (`wanted`). Metabase
    adds keys of its own on save and read (a card's `visualization_settings` gets a `version`, each template tag its
    `name`; src/metabase/models/interface.clj `transform-metabase-query` and `transform-visualization-settings`), so
    a value equal to what was sent is a dict holding at least the same keys with the same values."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(k in current and holds(current[k], v) for k, v in wanted.items())
    return current == wanted


def _database(client: MetabaseClient, connection: Connection, result: Provisioned) -> int:
    databases = client.get("/api/database")
    databases = databases["data"] if isinstance(databases, dict) else databases
    for database in databases:
        if database["name"] == connection.display_name:
            # Metabase never shows a stored password (src/metabase/api/database.clj: `**MetabasePass**`): the
            # details it shows are compared, and its health check says whether the stored password still works
            # (METABASE_READER_PASSWORD changed: the role was just given the new one, and the check fails).
            details = {k: v for k, v in _details(connection).items() if k != "password"}
            healthy = client.get(f"/api/database/{database['id']}/healthcheck").get("status") == "ok"
            if not (healthy and holds(database.get("details"), details)):
                client.put(f"/api/database/{database['id']}", {"details": _details(connection)})
                result.changes.append(f"database {connection.display_name!r}: connection details updated")
            return database["id"]
    created = client.post("/api/database", {
        "engine": "postgres", "name": connection.display_name, "is_full_sync": True,
        "details": _details(connection),
    })
    result.changes.append(f"database {connection.display_name!r} added")
    return created["id"]


def _wait_for_sync(client: MetabaseClient, database_id: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (status := client.get(f"/api/database/{database_id}").get("initial_sync_status")) != "complete":
        if status == "aborted":
            # Metabase gives up for good (src/metabase/sync/util.clj, set-initial-database-sync-aborted!):
            # waiting longer changes nothing.
            raise MetabaseError(
                f"Metabase could not read the payments database (database {database_id}: initial sync aborted). "
                "Check METABASE_DB_HOST, METABASE_DB_PORT and METABASE_READER_PASSWORD, and Metabase's log.")
        if time.monotonic() > deadline:
            raise MetabaseError(f"Metabase did not finish syncing database {database_id} within {timeout:.0f} s")
        time.sleep(1)


def _collection(client: MetabaseClient, name: str, result: Provisioned) -> int:
    for collection in client.get("/api/collection"):
        if collection.get("name") == name and not collection.get("archived"):
            return collection["id"]
    result.changes.append(f"collection {name!r} created")
    return client.post("/api/collection", {"name": name, "color": "#509EE3"})["id"]


def _tag_types(dashboard: Dashboard) -> dict[str, str]:
    """Each filter's template-tag type; refuses, before anything is sent, a filter type no variable can take."""
    types = {}
    for spec in dashboard.filters:
        if spec["type"] not in TAG_TYPE_OF_FILTER:
            raise MetabaseError(f"dashboard.yaml: filter {spec['slug']!r} has type {spec['type']!r}; a question's "
                                f"variable can take only {', '.join(TAG_TYPE_OF_FILTER)}")
        types[spec["slug"]] = TAG_TYPE_OF_FILTER[spec["type"]]
    return types


def card_payload(question: Question, tag_types: dict[str, str], database_id: int, collection_id: int) -> dict:
    tags = {
        tag: {"id": str(uuid.uuid5(TAG_NAMESPACE, f"{question.name}/{tag}")), "name": tag,
              "display-name": tag.replace("_", " ").capitalize(), "type": tag_types[tag]}
        for tag in question.tags
    }
    return {
        "name": question.title, "collection_id": collection_id, "display": question.display,
        "visualization_settings": question.visualization_settings,
        "dataset_query": {"type": "native", "database": database_id,
                          "native": {"query": question.sql, "template-tags": tags}},
    }


def _card(client: MetabaseClient, question: Question, tag_types: dict[str, str], result: Provisioned,
          card_id: int | None) -> int:
    wanted = card_payload(question, tag_types, result.database_id, result.collection_id)
    if card_id is None:
        result.changes.append(f"question {question.title!r} created")
        return client.post("/api/card", wanted)["id"]
    current = client.get(f"/api/card/{card_id}")
    if not holds(current, wanted):
        client.put(f"/api/card/{card_id}", wanted)
        result.changes.append(f"question {question.title!r} updated")
    return card_id


def _dashboard(client: MetabaseClient, dashboard: Dashboard, result: Provisioned, dashboard_id: int | None) -> int:
    if dashboard_id is None:
        dashboard_id = client.post("/api/dashboard", {"name": dashboard.name, "collection_id": result.collection_id,
                                                      "description": dashboard.description})["id"]
        result.changes.append(f"dashboard {dashboard.name!r} created")
    current = client.get(f"/api/dashboard/{dashboard_id}")
    parameters = [dashboard_parameter(f) for f in dashboard.filters]
    kept = {dc["card_id"]: dc["id"] for dc in current.get("dashcards", [])}
    # A tab added by hand: once a dashboard has tabs, each dashcard names its tab. Ours go on the first one, and
    # the tabs are sent back as they are.
    tabs = current.get("tabs") or []
    first_tab = tabs[0]["id"] if tabs else None
    dashcards = []
    for n, card in enumerate(dashboard.cards, start=1):
        question = dashboard.questions[card["question"]]
        card_id = result.cards[card["question"]]
        dashcards.append({
            "id": kept.get(card_id, -n), "card_id": card_id,
            "row": card["row"], "col": card["col"], "size_x": card["size_x"], "size_y": card["size_y"],
            "dashboard_tab_id": first_tab,
            "parameter_mappings": [{"parameter_id": tag, "card_id": card_id,
                                    "target": ["variable", ["template-tag", tag]]} for tag in question.tags],
        })
    if _layout(current.get("dashcards", [])) != _layout(dashcards) or current.get("parameters") != parameters:
        # Since Metabase 0.48 the whole layout is one PUT: a dashcard missing from the list is deleted.
        body = {"dashcards": dashcards, "parameters": parameters}
        if tabs:
            body["tabs"] = [{"id": tab["id"], "name": tab["name"]} for tab in tabs]
        client.put(f"/api/dashboard/{dashboard_id}", body)
        result.changes.append(f"dashboard {dashboard.name!r} layout updated")
    return dashboard_id


def dashboard_parameter(spec: dict) -> dict:
    """A filter of dashboard.yaml as Metabase's dashboard parameter. A text filter is single-value: Metabase makes
    `string/=` filters multi-select unless told, and two values given to a question's text variable render as
    `status = ?, ?`, an SQL error on every card wired to it."""
    parameter = {"id": spec["slug"], "name": spec["name"], "slug": spec["slug"], "type": spec["type"],
                 "sectionId": spec["type"].split("/")[0]}
    if spec["type"].startswith("string/"):
        parameter["isMultiSelect"] = False
    return parameter


def _layout(dashcards: list[dict]) -> list[tuple]:
    """What the provisioning sets on each dashcard, comparable whatever else Metabase adds or however it orders."""
    keys = ("card_id", "row", "col", "size_x", "size_y", "dashboard_tab_id")
    return sorted(
        (*(dc.get(k) for k in keys),
         tuple(sorted((m.get("parameter_id"), m.get("card_id"), repr(m.get("target")))
                      for m in dc.get("parameter_mappings") or [])))
        for dc in dashcards
    )
