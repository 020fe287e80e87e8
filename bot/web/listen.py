"""The address the web server listens on, as the operator writes it (`TBBOT_HTTP_LISTEN`);
apart from the server so that checking the settings does not load aiohttp."""

from __future__ import annotations


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:8080`) to a host and a port; ValueError when malformed."""
    host, sep, port_text = value.strip().rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port out of range in {value!r}")
    return host.strip("[]"), port
