"""Any sequence of uploads while the file storage answers, hangs or cuts connections, and comes back: the app,
served as in production, answers every upload with an import or a clear 503, never leaves a database transaction
open while S3 is waited for, keeps answering its health check, and every import it recorded as archived has its
file in the bucket.

STORAGE_FAULTS_EXAMPLES sets how many sequences are tried (the default is 6).
"""

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from minio import Minio
from sqlalchemy import select, text

from payments_core.db.models import Import
from tests.helpers.faulty_link import FaultyLink
from tests.helpers.importer import PASSWORD, ImporterClient, page_token

HEADER, *ROWS = (Path(__file__).resolve().parents[2] / "csvs" / "huge_load_transactions.csv").read_bytes().splitlines()
S3_WAIT = 2  # S3_TIMEOUT_SECONDS: a hung storage costs an upload this long per call
FILES = 6  # an example uploads these, each of 20 rows of its own, and uploads them again
EXAMPLES = itertools.count()


JSON = {"X-Requested-With": "upload", "Accept": "application/json"}


class StorageFaults(RuleBasedStateMachine):
    def __init__(self, importer_settings, engine):
        super().__init__()
        from csv_importer import create_app, serving

        self.link = FaultyLink(importer_settings.s3_endpoint_url)
        self.bucket, self.engine = importer_settings.s3_bucket, engine
        self.s3 = Minio(importer_settings.s3_endpoint_url.removeprefix("http://"), importer_settings.s3_access_key,
                        importer_settings.s3_secret_key.get_secret_value(), secure=False)
        app = create_app(importer_settings.model_copy(update={"s3_endpoint_url": self.link.address,
                                                              "s3_timeout_seconds": S3_WAIT, "importer_threads": 4}))
        ImporterClient(app)  # makes the account
        self.server = serving.server(app, "127.0.0.1", 0, threads=4)
        threading.Thread(target=self.server.run, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.effective_port}"
        self.session = requests.Session()
        token = page_token(self.session.get(self.base + "/login", timeout=10).text)
        self.session.post(self.base + "/login", timeout=10,
                          data={"csrf_token": token, "username": "tester", "password": PASSWORD})
        self.token = page_token(self.session.get(self.base + "/", timeout=10).text)
        first = next(EXAMPLES) * FILES * 20  # rows no other example uploads
        self.files = [b"\n".join([HEADER, *ROWS[first + n * 20:first + (n + 1) * 20]]) + b"\n" for n in range(FILES)]
        self.questions: list[str] = []  # uploads waiting for "imported before?"

    def teardown(self):
        self.server.close()
        self.link.close()

    @rule(mode=st.sampled_from(["pass", "hang", "cut"]))
    def storage(self, mode):
        self.link.set(mode)

    @rule(n=st.integers(0, FILES - 1))
    def upload(self, n):
        self._answered(self.session.post(self.base + "/imports", data={"csrf_token": self.token},
                                         files={"file": (f"part-{n}.csv", self.files[n], "text/csv")},
                                         headers=JSON, timeout=S3_WAIT * 20))

    @rule(data=st.data())
    def import_again(self, data):
        if not self.questions:
            return
        token = self.questions.pop(data.draw(st.integers(0, len(self.questions) - 1)))
        answer = self.session.post(self.base + "/imports/again", headers=JSON, timeout=S3_WAIT * 20,
                                   data={"csrf_token": self.token, "token": token, "rows": "all"})
        if answer.status_code != 410:  # answered already: its file is no longer waiting
            self._answered(answer)

    def _answered(self, answer):
        assert answer.status_code in (200, 503), (answer.status_code, answer.text[:300])
        if answer.status_code == 503:
            error = answer.json()["error"]
            assert "nothing was published" in error or "nothing was archived" in error, error
        elif "/imports/again/" in answer.json()["location"]:
            self.questions.append(answer.json()["location"].rsplit("/", 1)[1])

    @rule(uploads=st.integers(2, 6))
    def burst(self, uploads):
        """Uploads at once, while the health check is asked: it answers whatever the storage does."""
        with ThreadPoolExecutor(uploads) as pool, requests.Session() as other:
            answers = [pool.submit(self.upload, n % FILES) for n in range(uploads)]
            assert other.get(self.base + "/health", timeout=S3_WAIT * 2).status_code == 200
            for answer in answers:
                answer.result()  # its assertions

    @invariant()
    def no_transaction_waits_and_every_archived_import_has_its_file(self):
        with self.engine.connect() as conn:
            waiting = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND state LIKE 'idle in transaction%'"))
            imports = list(conn.execute(select(Import.s3_key, Import.status)))
        assert waiting == 0
        for key, status in imports:
            assert status != "archiving", "no upload is under way between steps: none stays archiving"
            self.s3.stat_object(self.bucket, key)  # raises if the bucket lacks it


def test_any_sequence_of_storage_faults_leaves_every_import_archived_and_the_app_answering(importer_settings, engine):
    run_state_machine_as_test(
        lambda: StorageFaults(importer_settings, engine),
        settings=settings(max_examples=int(os.environ.get("STORAGE_FAULTS_EXAMPLES", 6)), stateful_step_count=8,
                          deadline=None))
