"""One aiohttp server for everything that reaches the bot over HTTP.

Features (the SMS gateway's webhooks, Telegram webhooks, the health endpoint, metrics) each
contribute their routes with `add_routes` before `start`; the server itself knows none of them.
It is off unless the operator sets an address to listen on (`TBBOT_HTTP_LISTEN`).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

# Webhook bodies are small JSON documents; anything larger is refused before it is read.
MAX_BODY_BYTES = 64 * 1024


class WebServer:
    """The routes of every feature on one listening socket."""

    def __init__(self) -> None:
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    def add_routes(self, routes: Iterable[web.AbstractRouteDef]) -> None:
        self.app.add_routes(list(routes))

    async def start(self, host: str, port: int) -> None:
        # access_log=None: an access log line holds the path and the client's address.
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        try:
            await self._site.start()
        except BaseException:
            await self.stop()  # a port already taken must not leave the runner behind
            raise

    @property
    def port(self) -> int:
        """The port actually bound (useful when started on port 0)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the web server is not running")
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None
