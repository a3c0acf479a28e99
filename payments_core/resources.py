"""The project's data files (alembic.ini and migrations/, metabase/, schemas/, csvs/), wherever the code is.

An installed wheel carries them inside the package, in `payments_core/data/` (pyproject's force-include), found
with importlib.resources; a checkout (the editable install of `make up` and `make test`) has them at its root.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["data_path"]

_CHECKOUT = Path(__file__).resolve().parents[1]


def data_path(name: str) -> Path:
    """Where the data file or folder `name` (e.g. "metabase", "alembic.ini") is."""
    packaged = Path(str(files("payments_core"))) / "data" / name
    return packaged if packaged.exists() else _CHECKOUT / name
