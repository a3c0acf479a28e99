"""Uploading a file: the page, the upload itself, and the question asked when a file was imported before."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, send_file, url_for

from payments_core.errors import DatabaseUnavailable
from payments_core.resources import data_path

from .. import spool, too_large_message
from ..archive import ArchiveError
from ..importing import SeenBefore
from ..metrics import exposition
from ..reading import REQUIRED, FileProblem

bp = Blueprint("upload", __name__)

SAMPLE = data_path("csvs") / "suspicious_duplicated_transactions.csv"


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "upload"


def _go(url: str):
    return jsonify(location=url) if _wants_json() else redirect(url, code=303)


def _error(message: str, code: int):
    if _wants_json():
        return jsonify(error=message), code
    return _page(error=message), code


def _page(error: str | None = None):
    importer = current_app.extensions["importer"]
    return render_template("upload/index.html", columns=REQUIRED, error=error,
                           max_mb=importer.settings.importer_max_upload_mb,
                           too_large=too_large_message(importer.settings),
                           threshold=importer.settings.suspicious_amount_threshold)


@bp.get("/")
def index():
    return _page()


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.get("/metrics")
def metrics():
    """For Prometheus: counts and timings, nothing of any payment or person."""
    return exposition(current_app.extensions["importer_metrics"])


@bp.get("/sample.csv")
def sample():
    return send_file(SAMPLE, mimetype="text/csv", as_attachment=True, download_name="sample_transactions.csv")


@bp.post("/imports")
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        return _error("Choose a CSV file to upload.", 400)
    if not file.filename.lower().endswith(".csv"):
        return _error(f"Only .csv files can be imported; “{file.filename}” is not one.", 400)
    return _import(file.read(), file.filename, choice="ask")


@bp.post("/imports/again")
def import_again():
    choice = request.form.get("rows", "all")
    if choice not in ("all", "new"):
        return _error("Choose whether to import all rows or only the new ones.", 400)
    waiting = spool.take(current_app.config["SPOOL_DIR"], request.form.get("token", ""), g.account.account_id)
    if waiting is None:
        return _error("That upload is no longer waiting (they are kept for an hour). Upload the file again.", 410)
    data, name = waiting
    return _import(data, name, choice=choice)


@bp.get("/imports/again/<token>")
def seen_before(token: str):
    waiting = spool.peek(current_app.config["SPOOL_DIR"], token, g.account.account_id)
    if waiting is None:
        abort(404, description="That upload is no longer waiting. Upload the file again.")
    return render_template("upload/seen_before.html", token=token, **waiting)


def _question(outcome: SeenBefore) -> dict:
    earlier = outcome.earlier
    return {
        "rows": outcome.rows,
        "rows_in_database": earlier.rows_in_database,
        "same_content": [{"import_id": str(p.import_id), "file_name": p.file_name,
                          "uploaded_at": f"{p.uploaded_at:%Y-%m-%d %H:%M:%S UTC}", "rows_published": p.rows_published,
                          "same_bytes": p.sha256 == outcome.sha256} for p in earlier.same_content],
        "overlaps": [{"import_id": str(o.import_id) if o.import_id else None, "file_name": o.file_name,
                      "uploaded_at": f"{o.uploaded_at:%Y-%m-%d %H:%M:%S UTC}" if o.uploaded_at else None,
                      "rows": o.rows} for o in earlier.overlaps],
    }


def _import(data: bytes, name: str, choice: str):
    importer = current_app.extensions["importer"]
    try:
        outcome = importer.run(data, name, choice=choice, uploaded_by=g.account.username)
    except FileProblem as e:
        return _error(str(e), 422)
    except (ArchiveError, DatabaseUnavailable) as e:
        current_app.logger.warning("import of %r failed: %r", name, e.__cause__)
        return _error(str(e), 503)
    if isinstance(outcome, SeenBefore):
        token = spool.put(current_app.config["SPOOL_DIR"], data, name, _question(outcome), g.account.account_id)
        return _go(url_for("upload.seen_before", token=token))
    return _go(url_for("imports.detail", import_id=outcome.import_id))
