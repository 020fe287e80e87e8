"""Does requirements.lock pin everything pyproject.toml asks for? (`make install` asks.)

Prints what the lock lacks, or pins outside pyproject.toml's ranges, and exits 1 then; 0 when
the lock covers pyproject.toml. `make install` then installs the missing ones unpinned from
pyproject.toml (no hashes) and says to run `make lock`. Reads only the two files; uses
`packaging` for version ranges when it is installed (the lock pins it), names otherwise.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wanted(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return [
        *project.get("dependencies", []),
        *project.get("optional-dependencies", {}).get("dev", []),
    ]


def pinned(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        found = PIN.match(line)
        if found:
            pins[canonical(found[1])] = found[2]
    return pins


def problems(requirements: list[str], pins: dict[str, str]) -> list[str]:
    try:
        from packaging.requirements import Requirement
    except ImportError:
        Requirement = None
    found = []
    for text in requirements:
        match = NAME.match(text)
        if match is None:
            continue
        name = canonical(match[1])
        if name not in pins:
            found.append(f"{name} (not in the lock)")
        elif Requirement is not None and pins[name] not in Requirement(text).specifier:
            found.append(f"{name} (the lock pins {pins[name]}, pyproject.toml asks {text!r})")
    return found


def main() -> int:
    lock = ROOT / "requirements.lock"
    if not lock.exists():
        print("requirements.lock is missing: run `make lock`")
        return 1
    found = problems(wanted(ROOT / "pyproject.toml"), pinned(lock))
    if not found:
        return 0
    print("requirements.lock is older than pyproject.toml: " + "; ".join(found) + ".")
    print("Installing those from pyproject.toml's ranges, unpinned and without hashes;")
    print("run `make lock` to pin them (the rest stays as locked).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
