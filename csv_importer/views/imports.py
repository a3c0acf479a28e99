"""Imports: the history, each import's result and live status, its refused rows and its archived file."""

from __future__ import annotations

import csv
import io
import uuid

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from dashboards.paging import older_link, position
from payments_core.db.models import FLAG_KINDS

from .. import store
from ..archive import ArchiveError, NotArchived, attachment
from ..reading import REQUIRED
from ..replay import replay_refused

bp = Blueprint("imports", __name__, url_prefix="/imports")

PER_PAGE = 50
HISTORY_PER_PAGE = 100


def _importer():
    return current_app.extensions["importer"]


def _record(import_id: uuid.UUID):
    record = store.get_import(_importer().engine, import_id)
    if record is None:
        abort(404, description="There is no such import.")
    return record


@bp.get("")
def history():
    """The imports, newest first, a page at a time; `before` and `before_id` (the last one shown) start the next."""
    before = position("the time and id of an import shown, as in the link to older imports")
    imports = store.history(_importer().engine, before, HISTORY_PER_PAGE)
    older = older_link(imports, HISTORY_PER_PAGE, "uploaded_at", "import_id")
    return render_template("imports/history.html", imports=imports, older=older, paged=before is not None)


@bp.get("/<uuid:import_id>")
def detail(import_id: uuid.UUID):
    """An import's result; each table of flagged rows pages by line: `<kind>_after=N` shows the rows after line N,
    `<kind>_before=N` those before it."""
    record = _record(import_id)
    tables = {kind: _flag_table(import_id, kind) for kind in FLAG_KINDS}
    return render_template("imports/detail.html", record=record, tables=tables, columns=REQUIRED,
                           status=store.status(_importer().engine, record),
                           stopped_archiving=store.stopped_archiving(record),
                           sent_again=_line("sent_again"), not_sent=_line("not_sent"))


def _flag_table(import_id: uuid.UUID, kind: str) -> store.FlagPage:
    """One page of the flagged rows of `kind`, with the lines that start the previous and next pages."""
    before = _line(f"{kind}_before")
    if before is not None:
        return store.flags_page(_importer().engine, import_id, kind, before, PER_PAGE, backwards=True)
    return store.flags_page(_importer().engine, import_id, kind, _line(f"{kind}_after") or 0, PER_PAGE)


def _line(name: str) -> int | None:
    """A line number of the query string: a number that is no line (text, or beyond any file) is a 400 naming it."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.strip().isdigit() or int(raw) > 2**31 - 1:
        abort(400, description=f"{name} should be a line number, not {raw[:40]!r}.")
    return int(raw)


@bp.post("/<uuid:import_id>/replay")
def replay(import_id: uuid.UUID):
    """Send the import's refused rows again, once their cause is fixed; the page then says how many went."""
    _record(import_id)
    importer = _importer()
    done = replay_refused(importer.engine, importer.producer_config, importer.settings.imports_topic, import_id)
    current_app.logger.info("%d refused rows of import %s sent again", done.published.confirmed, import_id,
                            extra={"import_id": str(import_id)})
    return redirect(url_for("imports.detail", import_id=import_id, sent_again=done.published.confirmed,
                            not_sent=done.published.failed + done.cut), code=303)


@bp.get("/<uuid:import_id>/status")
def status(import_id: uuid.UUID):
    found = store.status(_importer().engine, _record(import_id))
    return jsonify(published=found.published, in_database=found.in_database, rejected=found.rejected,
                   older=found.older, complete=found.complete, rejections=found.rejections)


# What makes a spreadsheet run a cell as a formula, and the full-width forms some of them also accept.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def cell(value) -> str:
    """The value as a CSV cell a spreadsheet shows as text: one that starts like a formula gets a leading quote,
    as OWASP advises against CSV injection (`-2+3+cmd|' /C calc'!A0` included, so `-5` too)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


@bp.get("/<uuid:import_id>/rejected.csv")
def rejected_csv(import_id: uuid.UUID):
    """The refused rows as a CSV file to fix and upload again, written as they are read from the database: a
    hundred thousand of them are sent without being held in memory."""
    record = _record(import_id)
    rows = store.rejected_rows(_importer().engine, import_id)

    def lines():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*REQUIRED, "line_in_original_file", "why_it_was_refused"])
        for n, (line, reason, sent) in enumerate(rows, 1):
            writer.writerow([*(cell(sent.get(name)) for name in REQUIRED), line, cell(reason)])
            if n % 1000 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    name = record.file_name.removesuffix(".csv") + "_rejected.csv"
    return Response(lines(), mimetype="text/csv", headers={"Content-Disposition": attachment(name)})


@bp.get("/<uuid:import_id>/file")
def archived_file(import_id: uuid.UUID):
    record = _record(import_id)
    importer = _importer()
    try:
        chunks = importer.archive.stream(record.s3_key)
    except NotArchived as e:
        abort(404, description=str(e))
    except ArchiveError as e:
        abort(503, description=str(e))
    return Response(chunks, mimetype="text/csv",
                    headers={"Content-Disposition": attachment(record.file_name)})
