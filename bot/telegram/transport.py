"""python-telegram-bot's requests carried over aiohttp: every call the bot makes to the Bot API.

PTB's own `HTTPXRequest` spends most of a send's CPU inside httpx and httpcore (about 85% of
the dispatcher's process in a profile, `bench/README.md`); this `BaseRequest` does the same
work over aiohttp in well under half the time, which is what lets one process send more than
500 messages a second. PTB keeps everything above the socket: parameters, status codes and
their exceptions (`BaseRequest._request_wrapper`), so `TelegramSender` and the handlers see
the same errors either way.

What this class guarantees:
- every timeout PTB passes is honoured: `read` between bytes of the answer, `connect` for a new
  connection, `pool` for a free one, and the four together as a ceiling on the whole call
  (aiohttp has no separate write timeout; a Bot API request is a few hundred bytes);
- a timeout is `TimedOut` and any other transport failure is `NetworkError` carrying the aiohttp
  exception as its cause; their messages name only the exception class, because aiohttp's text
  can quote the URL and a Bot API URL holds the bot token;
- a proxy named in the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) is used;
- files (the calendar picture, the report, the export) go up as `multipart/form-data`, the
  other parameters as form fields beside them, as PTB's httpx transport sends them; an upload
  has `media_write` instead of `write` in its ceiling, since it carries far more than a
  few hundred bytes.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


@dataclass(frozen=True)
class Timeouts:
    """Seconds. A send answered after `read` is treated as failed and retried, so it may
    arrive twice; longer is fewer duplicates, shorter is a stuck connection noticed sooner."""

    connect: float = 5.0
    read: float = 10.0
    write: float = 10.0
    pool: float = 5.0
    media_write: float = 20.0
    """PTB's default for requests that upload files."""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """certifi's roots, as httpx uses (a slim container image may have no system store);
    loaded once and shared by every transport of the process, since loading them costs
    tens of milliseconds of start-up each time."""
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` with at most `connections` connections open to the Bot API at once."""

    def __init__(self, *, connections: int, timeouts: Timeouts) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self._connections = connections
        self._defaults = (timeouts.connect, timeouts.read, timeouts.write, timeouts.pool)
        self._media_write = timeouts.media_write
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._defaults[1]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ssl=_tls_context()),
                headers={"User-Agent": self.USER_AGENT},
                # HTTP(S)_PROXY and NO_PROXY, as PTB's httpx transport honours them: where
                # Telegram is blocked, an operator reaches it through a proxy.
                trust_env=True,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized (use `async with bot:`)")
        uploads = request_data is not None and request_data.contains_files
        defaults = self._defaults
        if uploads:
            defaults = (defaults[0], defaults[1], self._media_write, defaults[3])
        connect, read, write, pool = (
            _seconds(given, default)
            for given, default in zip(
                (connect_timeout, read_timeout, write_timeout, pool_timeout),
                defaults,
                strict=True,
            )
        )
        timeout = aiohttp.ClientTimeout(
            total=_ceiling(connect, read, write, pool),
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        data: dict[str, str] | aiohttp.FormData | None = None
        if request_data is not None:
            data = _form(request_data) if uploads else request_data.json_parameters
        try:
            # No redirects, as with PTB's httpx transport: a Bot API call is never redirected,
            # and following one would carry a patient's message to another address.
            async with self._session.request(
                method, url, data=data, timeout=timeout, allow_redirects=False
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as exc:
            raise TimedOut(f"aiohttp: {type(exc).__name__}") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {type(exc).__name__}") from exc


def _form(request_data: RequestData) -> aiohttp.FormData:
    """The parameters as form fields and each file as a part with its name and type."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _seconds(given: object, default: float | None) -> float | None:
    """A timeout PTB passed, or this request's default when it passed none."""
    if given is BaseRequest.DEFAULT_NONE:
        return default
    if given is None or isinstance(given, int | float):
        return given
    raise TypeError(f"a timeout is a number of seconds or None, not {type(given).__name__}")


def _ceiling(*timeouts: float | None) -> float | None:
    """The longest a whole call may take: every phase at its limit; none if one is unlimited."""
    if any(timeout is None for timeout in timeouts):
        return None
    return sum(timeout for timeout in timeouts if timeout is not None)
