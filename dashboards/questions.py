"""The questions of metabase/: each a SQL file in Metabase's template syntax plus its display settings.

`{{name}}` is a filter's value; `[[ … ]]` is a clause that applies only when every filter in it has a value.
`render` turns a question into SQL with bound parameters, so the same files serve Metabase and the tests (and
the importer's built-in dashboard): a value is never written into the SQL.

What questions share is written once, with the totals they read (payments_core/totals/questions/), and put in
when a question is loaded, so that Metabase receives plain SQL it can run: a line `{{> name}}` is replaced by
the fragment name.sql; a question whose YAML names a `template` is that fragment with each `${key}` replaced by
the YAML's `fill` value (words of the project's own files, never data; `$$` in a template stands for `$`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import yaml
from sqlalchemy import TextClause, text

from payments_core.resources import data_path
from payments_core.totals import QUESTION_FRAGMENTS

__all__ = ["DEFINITIONS", "Dashboard", "Question", "load_dashboard", "load_question", "render"]

DEFINITIONS = data_path("metabase")
_TAG = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)
_INCLUDE = re.compile(r"^[ \t]*\{\{>\s*(\w+)\s*\}\}[ \t]*\n", re.M)


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


def load_question(name: str, folder: Path = DEFINITIONS, fragments: Path = QUESTION_FRAGMENTS) -> Question:
    """One question of metabase/questions/, on the dashboard or not, its fragments put in; raises ValueError when
    a file, a fragment or a template's value is missing."""
    sql_path, meta_path = folder / "questions" / f"{name}.sql", folder / "questions" / f"{name}.yaml"
    meta = yaml.safe_load(meta_path.read_text()) if meta_path.exists() else None
    if meta is None or not (sql_path.exists() or "template" in meta):
        raise ValueError(f"questions/{name}.sql or .yaml is missing")
    if "template" in meta:
        template = _fragment(fragments, meta["template"], f"questions/{name}.yaml")
        try:
            sql = Template(template).substitute(meta.get("fill") or {})
        except KeyError as e:
            raise ValueError(f"questions/{name}.yaml fills no {e.args[0]!r} in its template") from None
    else:
        sql = sql_path.read_text()
    sql = _INCLUDE.sub(lambda m: _fragment(fragments, m.group(1), f"questions/{name}"), sql)
    return Question(name=name, title=meta["title"], sql=sql, display=meta["display"],
                    visualization_settings=meta.get("visualization_settings") or {})


def _fragment(fragments: Path, name: str, used_by: str) -> str:
    path = fragments / f"{name}.sql"
    if not path.exists():
        raise ValueError(f"{used_by} uses the fragment {name}.sql, which is missing")
    return path.read_text()


def load_dashboard(folder: Path = DEFINITIONS, fragments: Path = QUESTION_FRAGMENTS) -> Dashboard:
    """The dashboard file and every question it places; raises ValueError naming a card without its files, or a
    question's `{{variable}}` that no filter of the dashboard sets."""
    spec = yaml.safe_load((folder / "dashboard.yaml").read_text())
    filters = {f["slug"] for f in spec["filters"]}
    questions = {}
    for card in spec["cards"]:
        name = card["question"]
        try:
            questions[name] = load_question(name, folder, fragments)
        except ValueError as e:
            raise ValueError(f"dashboard.yaml places {name!r}, but {e}") from None
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
