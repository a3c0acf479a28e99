"""Driving the CSV importer's web app as a person's browser would."""

from __future__ import annotations

from .waiting import wait_until

__all__ = ["PASSWORD", "ImporterClient", "import_and_wait", "page_token"]

PASSWORD = "a-long-test-password"


def page_token(html: str) -> str:
    """The CSRF token a page's forms send."""
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


class ImporterClient:
    """Flask's test client, signed in to an account of `role` (made if missing), sending the CSRF token as the
    page's forms would."""

    def __init__(self, app, username: str = "tester", role: str = "importer", password: str = PASSWORD):
        from csv_importer import accounts

        self.app = app
        self.client = app.test_client()
        self.username = username
        try:
            accounts.add(app.extensions["importer"].engine, username, password, role)
        except accounts.AccountProblem:
            pass  # made by an earlier client of the same test
        response = self.sign_in(username, password)
        assert response.status_code == 303, response.text[:300]
        self.token = page_token(self.client.get("/", follow_redirects=True).text)

    def sign_in(self, username: str, password: str):
        token = page_token(self.client.get("/login").text)
        return self.client.post("/login", data={"csrf_token": token, "username": username, "password": password})

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
