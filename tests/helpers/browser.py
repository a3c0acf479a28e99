"""Debian's Chromium for the end-to-end tests (Playwright with executable_path: no browser download)."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own calls home are refused on a closed network, many at a time: keep it quiet and offline.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
