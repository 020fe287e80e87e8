"""The dependency checks: an audit that could not check a package never reads as a pass, and
`make install` says which dependencies requirements.lock does not pin yet."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


audit = script("audit")
lock_status = script("lock_status")

OFFLINE = {
    "dependencies": [
        {"name": "aiohttp", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "attrs", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ],
    "fixes": [],
}


def test_an_offline_audit_that_skipped_every_package_is_not_a_pass() -> None:
    status, lines = audit.verdict(OFFLINE, "")
    assert status == audit.NOT_AUDITED
    text = "\n".join(lines)
    assert "NOT AUDITED: 2 of 2 packages" in text and "no known vulnerabilities" not in text


def test_one_skipped_package_is_enough_to_withhold_the_pass() -> None:
    report = {
        "dependencies": [
            {"name": "idna", "version": "3.10", "vulns": []},
            OFFLINE["dependencies"][0],
        ]
    }
    status, lines = audit.verdict(report, "")
    assert status == audit.NOT_AUDITED and "1 of 2" in lines[0]


def test_known_vulnerabilities_fail_and_a_full_clean_audit_passes() -> None:
    vulnerable = {
        "dependencies": [
            {
                "name": "h11",
                "version": "0.13.0",
                "vulns": [{"id": "GHSA-vqfr-h8mv-ghfj", "fix_versions": ["0.16.0"]}],
            }
        ]
    }
    status, lines = audit.verdict(vulnerable, "")
    assert status == 1 and "GHSA-vqfr-h8mv-ghfj (fixed in 0.16.0)" in lines[0]
    clean = {"dependencies": [{"name": "idna", "version": "3.10", "vulns": []}]}
    assert audit.verdict(clean, "") == (0, ["pip-audit: no known vulnerabilities in 1 packages"])
    assert audit.verdict(None, "ConnectionError: no route")[0] == audit.NOT_AUDITED


def test_the_required_audit_fails_the_build_when_it_could_not_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(audit, "run_pip_audit", lambda: (0, OFFLINE, ""))
    monkeypatch.delenv("TBBOT_REQUIRE_AUDIT", raising=False)
    assert audit.main() == 0
    assert "this is not a pass" in capsys.readouterr().out
    monkeypatch.setenv("TBBOT_REQUIRE_AUDIT", "1")
    assert audit.main() == audit.NOT_AUDITED


def test_a_dependency_added_after_the_lock_is_named_not_ignored(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["aiohttp>=3.10,<4", "phonenumbers>=8,<10"]\n'
        '[project.optional-dependencies]\ndev = ["pytest>=9,<10"]\n'
    )
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "aiohttp==3.14.5 \\\n    --hash=sha256:00\npytest==8.4.0 \\\n    --hash=sha256:11\n"
    )
    found = lock_status.problems(lock_status.wanted(pyproject), lock_status.pinned(lock))
    assert found[0] == "phonenumbers (not in the lock)"
    assert found[1].startswith("pytest (the lock pins 8.4.0")
    assert len(found) == 2


def test_the_shipped_lock_pins_every_dependency_with_hashes() -> None:
    text = (ROOT / "requirements.lock").read_text()
    pins = lock_status.pinned(ROOT / "requirements.lock")
    assert {"python-telegram-bot", "sqlalchemy", "cryptography", "pip-audit"} <= set(pins)
    blocks = [block for block in text.split("\n") if "==" in block and not block.startswith("#")]
    assert blocks and all(
        block.endswith("\\") for block in blocks
    )  # each pin is followed by hashes
