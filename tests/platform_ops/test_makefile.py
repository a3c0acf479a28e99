"""`make up` on a fresh Debian: a Python without venv support is named, with the package to install."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_python_without_venv_is_told_to_install_python3_venv(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    # Debian's python3 without python3-venv: `import ensurepip` fails.
    python = tmp_path / "python3"
    python.write_text("#!/bin/sh\ncase \"$*\" in *ensurepip*) exit 1;; esac\nexec python3 \"$@\"\n")
    python.chmod(0o755)

    made = subprocess.run(["make", ".tools/bin/uv", f"PYTHON={python}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)

    assert made.returncode != 0
    assert "install Debian's python3-venv (sudo apt-get install python3-venv)" in made.stdout
    assert not (tmp_path / ".tools").exists()
