"""The local `.env`: made from `.env.example`, with a fresh random value for every secret the example ships, so
that no local stack runs with a key or password that is printed in the repository.

`python -m platform_ops.env_file [EXAMPLE] [TARGET]` (what `make up` runs): a new `.env` is the example with its
secrets replaced; an existing one keeps every value it has and gets the variables added to the example since,
their secrets fresh too.
"""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

__all__ = ["is_secret", "update_env_file"]

_VARIABLE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def is_secret(name: str) -> bool:
    """Whether the example's value of `name` must never be used as it is: a key or a password."""
    return "SECRET" in name or "PASSWORD" in name


def _fresh() -> str:
    # Hex: no character that a shell, a URL or a compose file would read specially; 64 digits, 256 bits.
    return secrets.token_hex(32)


def update_env_file(example: Path, target: Path) -> list[str]:
    """Write `target` from `example` (or add to it what it lacks); returns what was done, a line per change."""
    lines = example.read_text().splitlines()
    if not target.exists():
        made = [f"{m[1]}={_fresh()}" if (m := _VARIABLE.match(line)) and is_secret(m[1]) else line for line in lines]
        target.write_text("\n".join(made) + "\n")
        target.chmod(0o600)
        fresh = [m[1] for line in lines if (m := _VARIABLE.match(line)) and is_secret(m[1])]
        return [f"created {target} from {example.name}, with fresh random values for {', '.join(fresh)}"]
    have = {m[1] for line in target.read_text().splitlines() if (m := _VARIABLE.match(line))}
    added = [(m[1], m[2]) for line in lines if (m := _VARIABLE.match(line)) and m[1] not in have]
    if not added:
        return []
    with target.open("a") as out:
        for name, value in added:
            out.write(f"{name}={_fresh() if is_secret(name) else value}\n")
    return [f"added to {target} from {example.name}: {' '.join(name for name, _ in added)}"]


if __name__ == "__main__":
    example, target = (Path(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else (".env.example", ".env")))
    for line in update_env_file(example, target):
        print(line)
