"""Imports: the history, each import's result and live status, its refused rows and its archived file."""

from __future__ import annotations

import csv
import io
import uuid

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from .. import store
from ..archive import ArchiveError, attachment, read_archived
from ..reading import REQUIRED

bp = Blueprint("imports", __name__, url_prefix="/imports")

PER_PAGE = 50


def _importer():
    return current_app.extensions["importer"]


def _record(import_id: uuid.UUID):
    record = store.get_import(_importer().engine, import_id)
    if record is None:
        abort(404, description="There is no such import.")
    return record


@bp.get("")
def history():
    return render_template("imports/history.html", imports=store.history(_importer().engine))


@bp.get("/<uuid:import_id>")
def detail(import_id: uuid.UUID):
    record = _record(import_id)
    tables = {}
    for kind in ("duplicate", "suspicious", "malformed"):
        page = max(1, request.args.get(f"{kind}_page", 1, type=int))
        rows, total = store.flags_page(_importer().engine, import_id, kind, page, PER_PAGE)
        tables[kind] = {"rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PER_PAGE))}
    return render_template("imports/detail.html", record=record, tables=tables, columns=REQUIRED,
                           status=store.status(_importer().engine, record))


@bp.get("/<uuid:import_id>/status")
def status(import_id: uuid.UUID):
    found = store.status(_importer().engine, _record(import_id))
    return jsonify(published=found.published, in_database=found.in_database, rejected=found.rejected,
                   complete=found.complete, rejections=found.rejections)


# What makes a spreadsheet run a cell as a formula, and the full-width forms some of them also accept.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def cell(value) -> str:
    """The value as a CSV cell a spreadsheet shows as text: one that starts like a formula gets a leading quote,
    as OWASP advises against CSV injection (`-2+3+cmd|' /C calc'!A0` included, so `-5` too)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


@bp.get("/<uuid:import_id>/rejected.csv")
def rejected_csv(import_id: uuid.UUID):
    record = _record(import_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*REQUIRED, "line_in_original_file", "why_it_was_refused"])
    for line, reason, sent in store.rejected_rows(_importer().engine, import_id):
        writer.writerow([*(cell(sent.get(name)) for name in REQUIRED), line, cell(reason)])
    name = record.file_name.removesuffix(".csv") + "_rejected.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": attachment(name)})


@bp.get("/<uuid:import_id>/file")
def archived_file(import_id: uuid.UUID):
    record = _record(import_id)
    importer = _importer()
    try:
        data = read_archived(importer.s3, importer.settings.s3_bucket, record.s3_key)
    except ArchiveError as e:
        abort(503, description=str(e))
    return Response(data, mimetype="text/csv",
                    headers={"Content-Disposition": attachment(record.file_name)})
