"""The built-in dashboard, a blueprint that a web app registers: the same questions as Metabase's (metabase/), for
the local stack where none runs. `init_app(app, engine)` gives it the database it reads.

Answers are kept a few seconds per question and filters (`AnswerCache`), and the JSON carries an ETag and
`Cache-Control`, so a page left open costs a 304 most of the time.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

from flask import Blueprint, Flask, Response, abort, current_app, g, render_template, request
from sqlalchemy import Engine, text

from .alerts import AlertStreams, since_from
from .cache import AnswerCache
from .paging import older_link, position
from .questions import load_dashboard, load_question, render

__all__ = ["bp", "init_app"]

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")


def init_app(app: Flask, engine: Engine, cache_seconds: float = 5.0, alert_streams: int = 4,
             alert_seconds: float = 2.0) -> None:
    """Register the dashboard on `app`, reading from `engine`; an answer is reused for `cache_seconds`. At most
    `alert_streams` live alerts stream at once (each holds a serving thread), counting every `alert_seconds`."""
    app.extensions["dashboard_engine"] = engine
    app.extensions["dashboard_cache"] = AnswerCache(cache_seconds)
    app.extensions["dashboard_cache_seconds"] = cache_seconds
    app.extensions["dashboard_alerts"] = AlertStreams(engine, alert_streams, every=alert_seconds)
    app.register_blueprint(bp)


# The LIMIT of metabase/questions/user_history.sql: a full page has a next one.
USER_HISTORY_PAGE = 200
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

    def run():
        with current_app.extensions["dashboard_engine"].connect() as conn:
            result = conn.execute(render(question.sql, given))
            return list(result.keys()), [tuple(row) for row in result]

    return current_app.extensions["dashboard_cache"].get((name, tuple(sorted(given.items()))), run)


def _json(payload: dict) -> Response:
    """JSON with an ETag of its content: a client that has it already gets a 304 and no body."""
    body = json.dumps(payload, separators=(",", ":"), default=str)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    # Private: the answers are for the signed-in person, never for a shared cache.
    response.headers["Cache-Control"] = f"private, max-age={current_app.extensions['dashboard_cache_seconds']:.0f}"
    return response.make_conditional(request)


def _dashboard():
    if "dashboard" not in current_app.extensions:
        current_app.extensions["dashboard"] = load_dashboard()
    return current_app.extensions["dashboard"]


def _user_question(name: str):
    if name not in current_app.extensions.setdefault("dashboard_user_questions", {}):
        current_app.extensions["dashboard_user_questions"][name] = load_question(name)
    return current_app.extensions["dashboard_user_questions"][name]


def line_chart(rows: list[tuple], width: int = 900, height: int = 260, most_dots: int = 120) -> dict:
    """SVG polylines for (day, series, value) rows: one line per series, never added together. A dot marks each
    day while there are at most `most_dots` days; beyond, the dots would only hide the line."""
    days = sorted({row[0] for row in rows})
    series = sorted({row[1] for row in rows})
    top = max((float(row[2]) for row in rows), default=0) or 1
    x = {day: 50 + (i * (width - 70) / max(len(days) - 1, 1)) for i, day in enumerate(days)}
    lines = []
    for n, name in enumerate(series):
        points = [(x[d], height - 30 - float(v) / top * (height - 50)) for d, s, v in rows if s == name]
        lines.append({"name": name, "colour": COLOURS[n % len(COLOURS)],
                      "dots": points if len(days) <= most_dots else [],
                      "points": " ".join(f"{px:.1f},{py:.1f}" for px, py in points)})
    return {"width": width, "height": height, "lines": lines, "top": top,
            "first": days[0] if days else None, "last": days[-1] if days else None}


@bp.get("")
def overview():
    filters = _filters()
    answers = {name: _ask(name, filters) for name in _dashboard().questions}
    chart = current_app.extensions["dashboard_cache"].get(
        ("chart", tuple(sorted(filters.items()))), lambda: line_chart(answers["volume_per_day"][1]))
    return render_template("dashboard/index.html", filters=filters, answers=answers, chart=chart,
                           dashboard=_dashboard(), opened=datetime.now(UTC).isoformat(timespec="microseconds"),
                           cache_seconds=current_app.extensions["dashboard_cache_seconds"])


@bp.get("/alerts")
def alerts():
    """Server-Sent Events: the suspicious payments and the breaches of the pending service level since `since`
    (when the page was drawn), as `alert` events with both counts."""
    raw = request.args.get("since", "").strip()
    try:
        since = since_from(raw) if raw else datetime.now(UTC)
    except ValueError:
        abort(400, description=f"since should be a moment like 2025-07-07T10:00:00+00:00, not {raw!r}.")
    account = getattr(g, "account", None)
    holder = account.account_id if account is not None else request.remote_addr
    return Response(current_app.extensions["dashboard_alerts"].open(since, holder), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@bp.get("/suspicious")
def latest_suspicious():
    return question("latest_suspicious")


@bp.get("/questions/<name>")
def question(name: str):
    """One question's answer for the filters of the query string, as JSON (the live table, and scripts)."""
    if name not in _dashboard().questions:
        abort(404, description=f"There is no question {name!r}.")
    columns, rows = _ask(name, _filters())
    return _json({"columns": columns, "rows": [[str(v) for v in row] for row in rows]})


@bp.get("/users/<username>")
def user(username: str):
    """A user's activity and payments, newest first, 200 at a time: `before` and `before_id` (the last row shown)
    start the next page, which costs the same however far back it is."""
    before = position("the date and id of a payment shown, as in the link to older payments")
    page = {"before": before[0], "before_id": before[1]} if before else {}
    with current_app.extensions["dashboard_engine"].connect() as conn:
        known = conn.scalar(text("SELECT full_name FROM users WHERE username = :username"), {"username": username})
        if known is None:
            abort(404, description=f"There is no user {username!r}.")
        activity = list(conn.execute(render(_user_question("user_activity").sql, {"username": username})))
        history = list(conn.execute(render(_user_question("user_history").sql, {"username": username, **page})))
    older = older_link(history, USER_HISTORY_PAGE, "transaction_date", "transaction_id")
    return render_template("dashboard/user.html", username=username, full_name=known, activity=activity,
                           history=history, older=older, paged=bool(page))
