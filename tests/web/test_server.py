"""The shared HTTP server: routes from features, a real socket on 127.0.0.1, a body limit."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from bot.web.listen import parse_listen
from bot.web.server import MAX_BODY_BYTES, WebServer


async def test_serves_the_routes_features_add_and_stops() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"echo": await request.text()})

    server = WebServer()
    server.add_routes([web.post("/hello", hello)])
    await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{server.port}"
            async with session.post(f"{url}/hello", data="hi") as answer:
                assert answer.status == 200
                assert await answer.json() == {"echo": "hi"}
            async with session.get(f"{url}/elsewhere") as answer:
                assert answer.status == 404
            async with session.post(f"{url}/hello", data=b"x" * (MAX_BODY_BYTES + 1)) as answer:
                assert answer.status == 413
    finally:
        await server.stop()
    with pytest.raises(RuntimeError):
        _ = server.port


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:9", ("::1", 9)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_listen_addresses_are_read(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["", "8080", "host:", ":80", "host:99999", "host:http"])
def test_malformed_listen_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(value)
