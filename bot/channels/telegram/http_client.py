"""PTB's HTTP layer for the Bot API: its `BaseRequest` interface implemented over aiohttp.

PTB's default, httpx, spends about 1.3 ms of CPU per Bot API call on 2 cores, most of it in
httpcore's connection pool, which re-checks every pooled socket on every request (see
benchmarks/README.md, "The HTTP client"). Every reply, edit and callback answer is one call, so
that was most of the bot's CPU; aiohttp does the same work in about a fifth of it. PTB still
builds the requests, maps HTTP status codes to its errors and parses the answers; this module
only moves bytes, with a bounded pool, verified TLS and the environment's HTTP(S)_PROXY and
NO_PROXY.

A Bot API URL contains the bot token, so no message or log line made here names the URL.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import logging
import ssl
import sys
import urllib.request
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import aiohttp
import certifi
from aiohttp import hdrs, payload
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if sys.version_info >= (3, 11):
    from asyncio import timeout as _timeout
else:  # pragma: no cover - the project runs 3.11; aiohttp brings async-timeout to 3.10
    # Not asyncio.wait_for: before 3.12 it can drop a cancel that meets a finishing wait.
    from async_timeout import timeout as _timeout

log = logging.getLogger(__name__)

# Downloads (exports, a user's file) come through here too; Telegram's cloud Bot API serves
# files up to 20 MB. Anything much bigger is not the Bot API, and the body is held in memory.
MAX_BODY = 32 * 1024 * 1024
# Servers drop idle connections after a while; a request sent on one they are closing fails.
KEEPALIVE_SECONDS = 15.0
POOL_TIMEOUT_MESSAGE = ("Pool timeout: All connections in the connection pool are occupied. "
                        "Request was *not* sent to Telegram. Consider adjusting the "
                        "connection pool size or the pool timeout.")


def make_request(pool_size: int, read_timeout: float, write_timeout: float,
                 connect_timeout: float, pool_timeout: float) -> BaseRequest:
    """The HTTP layer for a Bot, with `pool_size` connections at most."""
    proxies = urllib.request.getproxies()  # the *_proxy variables, any case
    if "all" in proxies and not {"http", "https"} & proxies.keys():
        log.warning("ALL_PROXY is set but not used: the bot's HTTP client (aiohttp) honours "
                    "HTTPS_PROXY and HTTP_PROXY; set HTTPS_PROXY=http://host:port to use a proxy")
    return AiohttpRequest(pool_size=pool_size, read_timeout=read_timeout,
                          write_timeout=write_timeout, connect_timeout=connect_timeout,
                          pool_timeout=pool_timeout)


@functools.cache
def default_tls() -> ssl.SSLContext:
    """Certificate-verifying TLS with certifi's CA bundle.

    certifi rather than the system store: the same roots PTB's httpx trusts, and present on
    minimal container images that ship no CA certificates.
    """
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class Proxy:
    """How requests to one origin go: straight (url None) or through this HTTP proxy."""

    url: str | None = None
    proxy_headers: dict[str, str] | None = None  # for the proxy's CONNECT (https targets)
    headers: dict[str, str] | None = None  # on each request itself (http targets)


def env_proxy(url: str) -> Proxy:
    """HTTPS_PROXY or HTTP_PROXY for `url`'s scheme, unless NO_PROXY names its host."""
    parts = urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return Proxy()
    given = urllib.request.getproxies().get(parts.scheme)
    if not given:
        return Proxy()
    proxy = urlsplit(given)
    if proxy.username is None:
        return Proxy(given)
    # Credentials go in a header: aiohttp does not take them from the proxy URL.
    credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
    auth = {"Proxy-Authorization":
            "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")}
    bare = proxy._replace(netloc=proxy.netloc.rpartition("@")[2]).geturl()
    return Proxy(bare, headers=auth) if parts.scheme == "http" else Proxy(bare, auth)


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session: keep-alive, a bounded pool, TLS verified."""

    def __init__(self, pool_size: int = 1, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0,
                 ssl_context: ssl.SSLContext | None = None, max_body: int = MAX_BODY) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._pool_size = pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout,
                          "connect": connect_timeout, "pool": pool_timeout,
                          "media_write": media_write_timeout}
        self._ssl = ssl_context
        self._max_body = max_body
        self._session: aiohttp.ClientSession | None = None
        # aiohttp's own pool wait and connect share one timeout, so a full pool could not be
        # told from an unreachable server; PTB promises "Pool timeout" means "not sent".
        self._slots = asyncio.Semaphore(pool_size)  # made again by initialize, in its loop
        self._proxies: dict[str, Proxy] = {}

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not give its own."""
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Open the session; connections are opened when first needed."""
        if self._session is None or self._session.closed:
            self._slots = asyncio.Semaphore(self._pool_size)
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0,
                                             ssl=self._ssl or default_tls(),
                                             keepalive_timeout=KEEPALIVE_SECONDS)
            # Not trust_env: it reads ~/.netrc in a worker thread and the proxy variables on
            # every call, which more than doubled the CPU per call (0.25 -> 0.63 ms); the
            # proxy is looked up once per origin instead (`_proxy`).
            # The Bot API sets no cookies and answers uncompressed JSON: a dummy cookie jar and
            # no Accept-Encoding spare the per-call cookie filtering and decoder set-up.
            self._session = aiohttp.ClientSession(connector=connector,
                                                  headers={hdrs.USER_AGENT: self.USER_AGENT},
                                                  cookie_jar=aiohttp.DummyCookieJar(),
                                                  skip_auto_headers=(hdrs.ACCEPT_ENCODING,))
            self._proxies.clear()

    async def shutdown(self) -> None:
        """Close the session and every connection, idle or in use."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE,
                         write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        """Send one request and return the status code and the body."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        read = self._given(read_timeout, "read")
        write = self._given(write_timeout, "media_write" if files else "write")
        connect = self._given(connect_timeout, "connect")
        timeout = _client_timeout(read, write, connect)
        data = _body(request_data)
        proxy = self._proxy(url)
        await self._take_slot(self._given(pool_timeout, "pool"))
        try:
            async with session.request(method, url, data=data, timeout=timeout,
                                       allow_redirects=False, proxy=proxy.url,
                                       proxy_headers=proxy.proxy_headers,
                                       headers=proxy.headers) as response:
                return response.status, await self._read(response)
        except asyncio.TimeoutError:
            raise TimedOut() from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            # `from None`: the cause's own message and traceback may carry the URL.
            raise NetworkError(_describe(exc, url)) from None
        finally:
            self._slots.release()

    def _proxy(self, url: str) -> Proxy:
        """The proxy for `url`'s origin, read from the environment on first use."""
        end = url.find("/", url.find("//") + 2)
        origin = url if end < 0 else url[:end]
        proxy = self._proxies.get(origin)
        if proxy is None:
            proxy = self._proxies[origin] = env_proxy(url)
        return proxy

    def _given(self, value: Any, kind: str) -> float | None:
        """A call's own timeout, or this client's default for that kind."""
        if isinstance(value, (int, float)) or value is None:
            return value
        return self._timeouts[kind]

    async def _take_slot(self, timeout: float | None) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free: no timer needed
            return
        try:
            async with _timeout(timeout):
                await self._slots.acquire()
        except asyncio.TimeoutError:
            raise TimedOut(POOL_TIMEOUT_MESSAGE) from None

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The whole body, refused beyond `max_body` (counted after decompression)."""
        limit, length = self._max_body, response.content_length
        if hdrs.CONTENT_ENCODING not in response.headers and length is not None:
            if length > limit:
                _too_big(response, limit)
            return await response.read()
        chunks, size = [], 0
        while chunk := await response.content.readany():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                _too_big(response, limit)
        return b"".join(chunks)


def _too_big(response: aiohttp.ClientResponse, limit: int) -> NoReturn:
    response.close()  # the rest is not read, so the connection cannot be reused
    raise NetworkError(f"the answer is larger than {limit:,} bytes; not the Bot API, or "
                       "raise max_body in bot/channels/telegram/http_client.py")


@functools.lru_cache(maxsize=32)  # a handful of combinations; one object each, not per call
def _client_timeout(read: float | None, write: float | None,
                    connect: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for PTB's: it has no write timeout, so the three bound the whole."""
    total = None
    if read is not None and write is not None and connect is not None:
        total = read + write + connect
    return aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)


def _body(request_data: RequestData | None) -> payload.Payload | None:
    """Form-encoded fields, or multipart/form-data when there are files (as PTB's httpx)."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return payload.BytesPayload(
            request_data.url_encoded_parameters().encode("ascii"),
            content_type="application/x-www-form-urlencoded")
    form = aiohttp.MultipartWriter("form-data")
    for name, value in request_data.json_parameters.items():
        form.append_payload(payload.StringPayload(
            value, headers={hdrs.CONTENT_DISPOSITION: _disposition(name)}))
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        # A file object, not bytes: aiohttp then sends it in chunks, and warns about bytes
        # over 1 MiB (a long export would have logged a ResourceWarning).
        data = io.BytesIO(content if isinstance(content, bytes) else content.read())
        form.append_payload(payload.BytesIOPayload(
            data, content_type=mimetype or "application/octet-stream",
            headers={hdrs.CONTENT_DISPOSITION: _disposition(name, filename)}))
    return form


def _disposition(name: str, filename: str | None = None) -> str:
    # Written out rather than aiohttp's: it percent-encodes whole file names (Telegram would
    # show "my%20chart.png"); this is what PTB's default client, httpx, sends Telegram.
    value = f'form-data; name="{_quote(name)}"'
    return value if filename is None else f'{value}; filename="{_quote(filename)}"'


def _quote(value: str) -> str:
    """A form-data parameter with the characters that would end it escaped, HTML5-style."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D") \
        .replace("\n", "%0A")


def _describe(exc: BaseException, url: str) -> str:
    """What went wrong, without the URL or the token in it."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        reason = f"cannot connect to {exc.host}:{exc.port}: {exc.certificate_error}"
    elif isinstance(exc, aiohttp.ClientConnectorError):
        reason = f"cannot connect to {exc.host}:{exc.port}: {exc.os_error}"
    elif isinstance(exc, aiohttp.ClientResponseError):
        reason = f"{type(exc).__name__}: {exc.status}, {exc.message}"
    else:
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return _scrub(" ".join(reason.split()), url)  # one line: some aiohttp messages span several


def _scrub(text: str, url: str) -> str:
    """`text` with the URL, its path and the token in it (plain or encoded) replaced."""
    path = url.split("://", 1)[-1].partition("/")[2]
    secrets = {url, path}
    secrets |= {part for part in path.split("/") if len(part) > 20}  # bot<token>
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "<redacted>")
            text = text.replace(secret.replace(":", "%3A"), "<redacted>")
    return text
