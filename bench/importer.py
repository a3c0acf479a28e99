"""The CSV importer's speed and memory: upload → archived → parsed → marked → every row confirmed by the broker.

Runs `payments importer` as its own process (against a Tansu broker, a moto S3 endpoint and a fresh database on
BENCH_DATABASE_URL's server) and posts files to it over HTTP:
- speed: 100,000 and 1,000,000 unique rows, in rows per second;
- memory, the worst cases: files near the upload limit of unique rows, of rows all above the suspicious threshold,
  and of rows with one emoji (which makes Python hold text at 4 bytes a character); and 1,000,000 identical rows.
For each it prints the importer's peak memory during the request (VmHWM, reset before each upload) against the
bound of 3 × the upload + 150 MB, and its memory after the request (VmRSS) against its idle level before the first.
Run: .venv/bin/python bench/importer.py   (BENCH_MB=199 sets the size of the memory cases)
"""

from __future__ import annotations

import http.cookiejar
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from payments_core.db.connect import make_engine
from payments_core.kafka import ensure_topics
from platform_ops.servers import free_port, start_moto, start_process, start_tansu
from platform_ops.setup import migrate_and_seed
from platform_ops.stack import answers_200

ROOT = Path(__file__).resolve().parents[1]
HUGE = ROOT / "csvs" / "huge_load_transactions.csv"


def make_file(rows: int, folder: Path, name: str = "unique", change=lambda line: line) -> Path:
    """`rows` unique rows: copies of the 100,000-row sample, each copy in another year, each line `change`d."""
    header, *body = HUGE.read_text().splitlines()
    path = folder / f"bench_{name}_{rows}.csv"
    with open(path, "w") as f:
        f.write(header + "\n")
        for copy in range(-(-rows // len(body))):
            year = str(2025 - copy)
            chunk = body[: rows - copy * len(body)]
            f.write("\n".join(change(line.replace(",2025-", f",{year}-")) for line in chunk) + "\n")
    return path


def rows_for(megabytes: float) -> int:
    return int(megabytes * 1e6 / (HUGE.stat().st_size / 100_000))


def above_threshold(line: str) -> str:
    sender, receiver, amount, rest = line.split(",", 3)
    return f"{sender},{receiver},90{amount},{rest}"  # 12.50 becomes 9012.50: every amount above 8000


def identical_file(rows: int, folder: Path) -> Path:
    header, first = HUGE.read_text().splitlines()[:2]
    path = folder / f"bench_identical_{rows}.csv"
    path.write_text(header + "\n" + (first + "\n") * rows)
    return path


def one_long_line(megabytes: float, folder: Path) -> Path:
    """A header, then one line of `megabytes` ending in an emoji: refused, by its line number, before decoding."""
    header = HUGE.read_text().splitlines()[0]
    path = folder / "bench_one_long_line.csv"
    path.write_bytes(f"{header}\n".encode() + b"x" * int(megabytes * 2**20) + "😀\n".encode())
    return path


def with_an_emoji(path: Path) -> Path:
    data = path.read_bytes()
    second = data.index(b"\n") + 1
    emoji = path.with_name(path.stem + "_emoji.csv")
    emoji.write_bytes(data[:second] + "😀".encode() + data[second:])
    return emoji


PASSWORD = "bench-importer-password"


def signed_in(base: str, database_url: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A browser-like client signed in to a new importer account, and the CSRF token its uploads send."""
    from csv_importer import accounts

    engine = make_engine(database_url)
    accounts.add(engine, "bench", PASSWORD, "importer")
    engine.dispose()
    client = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def token(page: str) -> str:
        return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    with client.open(base + "/login", timeout=30) as page:
        form = {"csrf_token": token(page.read().decode()), "username": "bench", "password": PASSWORD}
    with client.open(base + "/login", data=urllib.parse.urlencode(form).encode(), timeout=30) as page:
        return client, token(page.read().decode())


def post(client: urllib.request.OpenerDirector, token: str, url: str, path: Path) -> tuple[int, float]:
    boundary = uuid.uuid4().hex
    data = path.read_bytes()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Requested-With": "upload",
        "X-CSRF-Token": token})
    start = time.perf_counter()
    try:
        with client.open(request, timeout=600) as response:
            response.read()
            return response.status, time.perf_counter() - start
    except urllib.error.HTTPError as refused:  # a file the importer refuses: its answer is measured too
        refused.read()
        return refused.code, time.perf_counter() - start


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """VmHWM: the peak since the last reset_peak; VmRSS: now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))  # a name made here, not data
    database_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    broker = start_tansu("127.0.0.1", free_port(), folder / "logs")
    s3 = start_moto("127.0.0.1", free_port(), folder / "logs")
    importer = None
    try:
        migrate_and_seed(database_url)
        ensure_topics(broker.address, ["import-payments-events"], 6)
        port = free_port()
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.address, "DATABASE_URL": database_url,
               "S3_ENDPOINT_URL": s3.address, "S3_ACCESS_KEY": "bench", "S3_SECRET_KEY": "bench",
               "IMPORTER_PORT": str(port), "IMPORTER_SECRET_KEY": "bench-secret-key-0123"}
        importer = start_process("importer", [sys.executable, str(Path(__file__).resolve()), "--serve"],
                                 f"127.0.0.1:{port}", folder / "logs", env=env,
                                 ready=lambda: answers_200(f"http://127.0.0.1:{port}/health"))
        pid, url = importer.process.pid, f"http://127.0.0.1:{port}/imports"
        client, token = signed_in(f"http://127.0.0.1:{port}", database_url)
        idle = memory_mb(pid, "VmRSS")
        print(f"importer process after start: {idle:.0f} MB")
        print("speed:")
        for rows, target in ((100_000, 1.0), (1_000_000, 8.0)):
            path = make_file(rows, folder)
            status, seconds = post(client, token, url, path)
            assert status == 200, status
            size = path.stat().st_size / 1e6
            print(f"  {rows:>9,} rows ({size:.0f} MB): {seconds:.2f} s = {rows / seconds:,.0f} rows/s "
                  f"(target under {target:.0f} s: {seconds / target:.2f} of it)")
        megabytes = float(os.environ.get("BENCH_MB", "199"))
        unique = make_file(rows_for(megabytes), folder, "big")
        cases = [
            ("unique rows", unique, 200),
            ("every amount above the threshold", make_file(rows_for(megabytes), folder, "suspicious", above_threshold),
             200),
            ("one emoji", with_an_emoji(make_file(rows_for(megabytes) - 1, folder, "emoji")), 200),
            ("1,000,000 identical rows", identical_file(1_000_000, folder), 200),
            ("one line of 60 MB ending in an emoji (refused)", one_long_line(60, folder), 422),
        ]
        print("memory (bound: 3 × the upload + 150 MB):")
        for label, path, expected in cases:
            size = path.stat().st_size / 2**20
            reset_peak(pid)
            status, seconds = post(client, token, url, path)
            assert status == expected, (label, status)
            peak, after, bound = memory_mb(pid), memory_mb(pid, "VmRSS"), 3 * size + 150
            print(f"  {label} ({size:.0f} MB): {seconds:.1f} s; peak {peak:.0f} MB = {peak / bound:.2f} of the "
                  f"bound ({bound:.0f} MB); after the request {after:.0f} MB ({after - idle:+.0f} MB on idle)")
        flags = make_engine(database_url)
        with flags.connect() as conn:
            size = conn.scalar(text("SELECT pg_total_relation_size('import_flags')"))
            repeats = conn.scalar(text("SELECT max(pg_column_size(repeats)) FROM import_flags"))
        flags.dispose()
        print(f"import_flags after all: {size / 2**20:.1f} MB; the identical rows' flag {repeats / 2**20:.1f} MB")
    finally:
        if importer:
            importer.stop()
        broker.stop()
        s3.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve() -> None:
    """The importer as `payments importer` serves it."""
    from csv_importer import create_app, serving
    from csv_importer.settings import ImporterSettings
    from payments_core.settings import load

    settings = load(ImporterSettings)
    serving.server(create_app(settings), "127.0.0.1", settings.importer_port, threads=4).run()


if __name__ == "__main__":
    serve() if "--serve" in sys.argv else main()
