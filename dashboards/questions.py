"""The questions of metabase/: each a SQL file in Metabase's template syntax plus its display settings.

`{{name}}` is a filter's value; `[[ … ]]` is a clause that applies only when every filter in it has a value.
`render` turns a question into SQL with bound parameters, so the same files serve Metabase and the tests (and
the importer's built-in dashboard): a value is never written into the SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import TextClause, text

from payments_core.resources import data_path

__all__ = ["DEFINITIONS", "Dashboard", "Question", "load_dashboard", "load_question", "render"]

DEFINITIONS = data_path("metabase")
_TAG = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    sql: str
    display: str
    visualization_settings: dict = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        """The filters the question takes, in order of first use."""
        return list(dict.fromkeys(_TAG.findall(self.sql)))


@dataclass(frozen=True)
class Dashboard:
    name: str
    collection: str
    description: str
    filters: list[dict]
    cards: list[dict]
    questions: dict[str, Question]


def load_question(name: str, folder: Path = DEFINITIONS) -> Question:
    """One question of metabase/questions/, on the dashboard or not; raises ValueError when a file is missing."""
    sql_path, meta_path = folder / "questions" / f"{name}.sql", folder / "questions" / f"{name}.yaml"
    if not sql_path.exists() or not meta_path.exists():
        raise ValueError(f"questions/{name}.sql or .yaml is missing")
    meta = yaml.safe_load(meta_path.read_text())
    return Question(name=name, title=meta["title"], sql=sql_path.read_text(), display=meta["display"],
                    visualization_settings=meta.get("visualization_settings") or {})


def load_dashboard(folder: Path = DEFINITIONS) -> Dashboard:
    """The dashboard file and every question it places; raises ValueError naming a card without its files, or a
    question's `{{variable}}` that no filter of the dashboard sets."""
    spec = yaml.safe_load((folder / "dashboard.yaml").read_text())
    filters = {f["slug"] for f in spec["filters"]}
    questions = {}
    for card in spec["cards"]:
        name = card["question"]
        try:
            questions[name] = load_question(name, folder)
        except ValueError:
            raise ValueError(f"dashboard.yaml places {name!r}, but questions/{name}.sql or .yaml is missing") from None
        if unset := [tag for tag in questions[name].tags if tag not in filters]:
            raise ValueError(f"questions/{name}.sql uses {{{{{unset[0]}}}}}, which no filter of dashboard.yaml sets")
    return Dashboard(name=spec["name"], collection=spec["collection"], description=spec.get("description", ""),
                     filters=spec["filters"], cards=spec["cards"], questions=questions)


def render(sql: str, values: dict[str, object]) -> TextClause:
    """The question's SQL for these filter values: optional clauses kept only when all their filters are set,
    `{{name}}` bound as a parameter."""
    given = {k: v for k, v in values.items() if v not in (None, "")}

    def optional(match: re.Match) -> str:
        clause = match.group(1)
        return clause if all(tag in given for tag in _TAG.findall(clause)) else ""

    body = _TAG.sub(lambda m: f":{m.group(1)}", _OPTIONAL.sub(optional, sql))
    used = set(re.findall(r"(?<![:\w]):(\w+)", body))
    return text(body).bindparams(**{k: v for k, v in given.items() if k in used})
