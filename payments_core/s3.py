"""The S3 client the platform uses: every call has a time limit, so a storage that hangs fails one call in
seconds instead of holding it for minutes.

Minio's own client waits 300 s to connect and 300 s for each read, and tries five times: a hung endpoint held an
upload for half an hour. Here a connection is tried twice, a read that timed out is not tried again (the server
may still be writing), and an answer of 500, 502, 503 or 504 is tried again once.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio

from .settings import S3Settings

__all__ = ["client"]


def client(settings: S3Settings, connections: int = 10) -> Minio:
    endpoint = urlsplit(settings.s3_endpoint_url)
    wait = settings.s3_timeout_seconds
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=wait, read=wait),
        maxsize=connections,
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=2, connect=1, read=0, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
    )
    return Minio(endpoint.netloc, access_key=settings.s3_access_key,
                 secret_key=settings.s3_secret_key.get_secret_value(), secure=endpoint.scheme == "https",
                 http_client=http)
