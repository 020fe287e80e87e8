"""The deployment files, read as Docker would: no daemon runs on these machines, so the
compose file is checked by parsing it, and the Dockerfile's entrypoint is the script the
smoke test (`test_entrypoint.py`) runs."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def volume_targets(service: dict[str, Any]) -> dict[str, str]:
    """Container path → named volume or host path, short and long syntax."""
    found = {}
    for entry in service.get("volumes", []):
        if isinstance(entry, str):
            source, target = entry.split(":")[:2]
        else:
            source, target = entry["source"], entry["target"]
        found[target] = source
    return found


def test_the_bot_runs_against_postgresql_once_it_is_healthy() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "bot"}
    assert services["db"]["image"].startswith("postgres:")
    bot = services["bot"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@db:5432/" in bot["environment"]["DATABASE_URL"]


def test_every_service_has_a_health_check() -> None:
    for name, service in compose()["services"].items():
        check = service.get("healthcheck")
        assert check and check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert check["retries"] >= 1, name
    db_check = " ".join(compose()["services"]["db"]["healthcheck"]["test"])
    assert "pg_isready" in db_check
    bot_check = " ".join(compose()["services"]["bot"]["healthcheck"]["test"])
    listen = compose()["services"]["bot"]["environment"]["TBBOT_HTTP_LISTEN"]
    assert f":{listen.rsplit(':', 1)[1]}/" in bot_check


def test_the_master_key_is_mounted_from_outside_every_data_volume() -> None:
    document = compose()
    bot = document["services"]["bot"]
    key_path = PurePosixPath(bot["environment"]["TBBOT_MASTER_KEY_FILE"])
    (secret,) = bot["secrets"]
    assert key_path == PurePosixPath("/run/secrets") / secret["target"]
    host_file = document["secrets"][secret["source"]]["file"]
    # From a host file, not from a named volume; and no volume is mounted over the key.
    assert host_file.startswith("./") and host_file not in document.get("volumes", {})
    for service in document["services"].values():
        for target in volume_targets(service):
            assert not key_path.is_relative_to(target), target
    data_dir = PurePosixPath(bot["environment"]["TBBOT_DATA_DIR"])
    assert not key_path.is_relative_to(data_dir)
    assert volume_targets(bot)[str(data_dir)] in document["volumes"]
    assert "TBBOT_MASTER_KEY" not in bot["environment"]  # never the key itself


def test_secrets_come_from_the_environment_file_never_from_the_compose_file() -> None:
    text = (ROOT / "compose.yaml").read_text()
    bot = compose()["services"]["bot"]
    assert bot["environment"]["TELEGRAM_BOT_TOKEN"].startswith("${TELEGRAM_BOT_TOKEN:?")
    assert compose()["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    assert not re.search(r"\d{6,}:[A-Za-z0-9_-]{30,}", text)  # no bot token pasted in
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "secrets/", "data/"} <= set(ignored)


def test_the_image_starts_through_the_entrypoint_script_as_its_own_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.search(r"^COPY (\S+) /usr/local/bin/(\S+)$", dockerfile, re.MULTILINE)
    assert copied is not None
    assert copied.group(1) == "scripts/docker-entrypoint.sh"
    assert f'ENTRYPOINT ["{copied.group(2)}"]' in dockerfile
    assert re.search(r"^USER tbbot$", dockerfile, re.MULTILINE)
    assert 'CMD ["run"]' in dockerfile
    assert compose()["services"]["bot"]["command"] == ["run"]
