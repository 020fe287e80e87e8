"""Audit the installed dependencies for known vulnerabilities, and never call a skip a pass.

Steps:
1. Run pip-audit on the installed distributions (not the project itself: it is not on PyPI),
   asking for JSON, so that what was checked and what was skipped can be counted.
2. Known vulnerabilities: list them and fail.
3. Packages pip-audit could not check (offline, the vulnerability service down, a version the
   service does not know) are counted and named. Then the audit did not happen, whatever
   pip-audit's exit status: say "NOT AUDITED" and fail when TBBOT_REQUIRE_AUDIT=1 (as CI
   sets); elsewhere say it loudly and let the other checks go on.
4. Only when every package was checked and none is vulnerable: "no known vulnerabilities".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

NOT_AUDITED = 3


def run_pip_audit() -> tuple[int, dict[str, Any] | None, str]:
    cmd = [
        sys.executable,
        "-m",
        "pip_audit",
        "--skip-editable",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = None
    return result.returncode, report, result.stderr


def verdict(report: dict[str, Any] | None, stderr: str) -> tuple[int, list[str]]:
    """The exit status (0 pass, 1 vulnerable, `NOT_AUDITED`) and the lines to print."""
    if report is None:
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        return NOT_AUDITED, [f"pip-audit: NOT AUDITED: pip-audit gave no report ({last[0]})"]
    packages = report.get("dependencies", [])
    vulnerable = [p for p in packages if p.get("vulns")]
    skipped = [p for p in packages if "skip_reason" in p]
    lines = []
    for package in vulnerable:
        for vuln in package["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            where = f"{package['name']} {package['version']}"
            lines.append(f"pip-audit: {where}: {vuln['id']} (fixed in {fixed})")
    if skipped:
        names = ", ".join(p["name"] for p in skipped[:8]) + (", ..." if len(skipped) > 8 else "")
        lines.append(
            f"pip-audit: NOT AUDITED: {len(skipped)} of {len(packages)} packages could not be "
            f"checked ({names}); first reason: {skipped[0]['skip_reason']}"
        )
    if vulnerable:
        return 1, lines
    if skipped or not packages:
        return NOT_AUDITED, lines or ["pip-audit: NOT AUDITED: no package was checked"]
    return 0, [f"pip-audit: no known vulnerabilities in {len(packages)} packages"]


def main() -> int:
    _, report, stderr = run_pip_audit()
    status, lines = verdict(report, stderr)
    for line in lines:
        print(line)
    if status == NOT_AUDITED:
        if os.environ.get("TBBOT_REQUIRE_AUDIT") == "1":
            print("pip-audit: TBBOT_REQUIRE_AUDIT=1: an audit that did not run is a failure")
            return NOT_AUDITED
        print("pip-audit: this is not a pass; CI (TBBOT_REQUIRE_AUDIT=1) fails here")
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
