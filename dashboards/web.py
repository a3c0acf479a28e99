"""The built-in dashboard, a blueprint that a web app registers: the same questions as Metabase's (metabase/), for
the local stack where none runs. `init_app(app, engine)` gives it the database it reads."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request
from sqlalchemy import Engine, text

from .questions import load_dashboard, load_question, render

__all__ = ["bp", "init_app"]

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")


def init_app(app: Flask, engine: Engine) -> None:
    """Register the dashboard on `app`, reading from `engine`."""
    app.extensions["dashboard_engine"] = engine
    app.register_blueprint(bp)

COLOURS = ["#2457c5", "#b45309", "#067647", "#9e1f63", "#5b6475", "#0e7490"]


def _filters() -> dict:
    """The filters from the query string, checked: a malformed date is a 400 naming it, not a database error."""
    values = {}
    for name in ("date_from", "date_to"):
        raw = request.args.get(name, "").strip()
        if raw:
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                abort(400, description=f"{name.replace('_', ' ')} should be a date like 2025-07-07, not {raw!r}.")
    for name in ("username", "currency", "status"):
        raw = request.args.get(name, "").strip()
        if raw:
            values[name] = raw.upper() if name == "currency" else raw
    return values


def _ask(name: str, filters: dict) -> tuple[list[str], list[tuple]]:
    question = _dashboard().questions[name]
    given = {k: v for k, v in filters.items() if k in question.tags}
    with current_app.extensions["dashboard_engine"].connect() as conn:
        result = conn.execute(render(question.sql, given))
        return list(result.keys()), [tuple(row) for row in result]


def _dashboard():
    if "dashboard" not in current_app.extensions:
        current_app.extensions["dashboard"] = load_dashboard()
    return current_app.extensions["dashboard"]


def _user_question(name: str):
    if name not in current_app.extensions.setdefault("dashboard_user_questions", {}):
        current_app.extensions["dashboard_user_questions"][name] = load_question(name)
    return current_app.extensions["dashboard_user_questions"][name]


def line_chart(rows: list[tuple], width: int = 900, height: int = 260) -> dict:
    """SVG polylines for (day, series, value) rows: one line per series, never added together."""
    days = sorted({row[0] for row in rows})
    series = sorted({row[1] for row in rows})
    top = max((float(row[2]) for row in rows), default=0) or 1
    x = {day: 50 + (i * (width - 70) / max(len(days) - 1, 1)) for i, day in enumerate(days)}
    lines = []
    for n, name in enumerate(series):
        points = [(x[d], height - 30 - float(v) / top * (height - 50)) for d, s, v in rows if s == name]
        lines.append({"name": name, "colour": COLOURS[n % len(COLOURS)], "dots": points,
                      "points": " ".join(f"{px:.1f},{py:.1f}" for px, py in points)})
    return {"width": width, "height": height, "lines": lines, "top": top,
            "first": days[0] if days else None, "last": days[-1] if days else None}


@bp.get("")
def overview():
    filters = _filters()
    answers = {name: _ask(name, filters) for name in _dashboard().questions}
    return render_template("dashboard/index.html", filters=filters, answers=answers,
                           chart=line_chart(answers["volume_per_day"][1]), dashboard=_dashboard())


@bp.get("/suspicious")
def latest_suspicious():
    columns, rows = _ask("latest_suspicious", _filters())
    return jsonify(columns=columns, rows=[[str(v) for v in row] for row in rows])


@bp.get("/users/<username>")
def user(username: str):
    with current_app.extensions["dashboard_engine"].connect() as conn:
        known = conn.scalar(text("SELECT full_name FROM users WHERE username = :username"), {"username": username})
        if known is None:
            abort(404, description=f"There is no user {username!r}.")
        activity = list(conn.execute(render(_user_question("user_activity").sql, {"username": username})))
        history = list(conn.execute(render(_user_question("user_history").sql, {"username": username})))
    return render_template("dashboard/user.html", username=username, full_name=known, activity=activity,
                           history=history)
