"""Driving the CSV importer's web app as a person's browser would."""

from __future__ import annotations

from .waiting import wait_until

__all__ = ["ImporterClient", "import_and_wait"]


class ImporterClient:
    """Flask's test client, sending the CSRF token as the page's form would."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        page = self.client.get("/")
        self.token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    def upload(self, data: bytes, name: str = "payments.csv", xhr: bool = False):
        import io

        headers = {"X-Requested-With": "upload"} if xhr else {}
        return self.client.post("/imports", data={"csrf_token": self.token, "file": (io.BytesIO(data), name)},
                                content_type="multipart/form-data", headers=headers)

    def __getattr__(self, name):
        return getattr(self.client, name)


def import_and_wait(importer, data: bytes, name: str = "payments.csv", rows: str | None = None,
                    timeout: float = 90) -> tuple[str, dict]:
    """Upload `data` (answering "imported before?" with `rows`: "all" or "new"), wait until the ingestion service
    has saved or refused every published row; returns the import's page address and its final status."""
    response = importer.upload(data, name)
    assert response.status_code == 303, response.text[:500]
    location = response.headers["Location"]
    if "/imports/again/" in location:
        assert rows, f"{name} was taken for a file imported before"
        question = importer.get(location).text
        token = question.split('name="token" value="', 1)[1].split('"', 1)[0]
        response = importer.post("/imports/again", data={"csrf_token": importer.token, "token": token, "rows": rows})
        assert response.status_code == 303, response.text[:500]
        location = response.headers["Location"]
    final = wait_until(lambda: (st := importer.get(location + "/status").json)["complete"] and st, timeout=timeout,
                       message=f"the import of {name} complete")
    return location, final
