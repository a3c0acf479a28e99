"""A small client for the parts of Metabase's REST API the provisioning uses (written for Metabase 0.54)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from payments_core.errors import PlatformError

__all__ = ["MetabaseClient", "MetabaseError"]


class MetabaseError(PlatformError):
    """Metabase refused a request or did not answer; the message names the request."""


class MetabaseClient:
    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session: str | None = None

    def request(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.session:
            headers["X-Metabase-Session"] = self.session
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            raise MetabaseError(f"Metabase answered {e.code} to {method} {path}: {detail}") from None
        except OSError as e:
            raise MetabaseError(f"Metabase at {self.base_url} did not answer {method} {path}: {e}") from e
        return json.loads(raw) if raw.strip() else None

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, body: dict):
        return self.request("POST", path, body)

    def put(self, path: str, body: dict):
        return self.request("PUT", path, body)

    def wait_until_healthy(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if (self.get("/api/health") or {}).get("status") == "ok":
                    return
            except MetabaseError:
                pass
            if time.monotonic() > deadline:
                raise MetabaseError(f"Metabase at {self.base_url} was not healthy within {timeout:.0f} s")
            time.sleep(2)
