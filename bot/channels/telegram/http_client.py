"""PTB's HTTP layer for the Bot API: HTTP/1.1 keep-alive over asyncio streams.

PTB's default, httpx, spends about 1.3 ms of CPU per Bot API call on 2 cores, most of it in
httpcore's connection pool, which re-checks every pooled socket on every request (see
benchmarks/README.md, "The HTTP client"). Every reply, edit and callback answer is one call, so
that was most of the bot's CPU. This client does one plain request at a time per connection and
keeps idle connections for reuse, which is all the Bot API needs, at about a tenth of the cost.
It plugs in through PTB's documented `BaseRequest` interface; PTB still builds the requests,
maps HTTP status codes to its errors and parses the answers.

Not handled here, so `make_request` falls back to httpx for them: proxies (HTTP(S)_PROXY or
ALL_PROXY set), Python 3.10 (no `asyncio.timeout`), and CCBOT_HTTP_CLIENT=httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import ssl
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.channels.telegram.config import ConfigError

CLIENT_ENV = "CCBOT_HTTP_CLIENT"
PROXY_ENVS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
# An idle connection older than this is closed rather than reused: servers drop idle
# connections after a while, and a request sent on one the server is closing would fail.
KEEPALIVE_SECONDS = 15.0
# Headers of a Bot API answer are a few hundred bytes; anything near this is not the Bot API.
MAX_HEAD = 64 * 1024
_DEFAULT = "default"  # marks "use this client's own timeout" below


if sys.version_info >= (3, 11):
    _timeout = asyncio.timeout
else:  # pragma: no cover - make_request never builds a StreamRequest on 3.10
    def _timeout(delay: float | None) -> contextlib.AbstractAsyncContextManager[None]:
        raise RuntimeError("StreamRequest needs Python 3.11 or later; use HTTPXRequest")

def proxy_configured() -> bool:
    """Whether the environment asks for a proxy, which only httpx here knows how to use."""
    return any(os.environ.get(name, "").strip() for name in PROXY_ENVS)


def make_request(pool_size: int, read_timeout: float, write_timeout: float,
                 connect_timeout: float, pool_timeout: float) -> BaseRequest:
    """The HTTP layer for a Bot: streams, or httpx when a proxy or CCBOT_HTTP_CLIENT asks."""
    wanted = os.environ.get(CLIENT_ENV, "").strip().lower()
    if wanted not in ("", "streams", "httpx"):
        raise ConfigError(f"{CLIENT_ENV} must be 'streams' or 'httpx' (or unset), "
                          f"not {wanted[:20]!r}")
    # asyncio.wait_for, all 3.10 has, can swallow a cancellation that meets a finishing call
    # (fixed by asyncio.timeout in 3.11): a stopping bot could then poll on forever.
    if wanted == "httpx" or proxy_configured() or sys.version_info < (3, 11):
        return HTTPXRequest(connection_pool_size=pool_size, read_timeout=read_timeout,
                            write_timeout=write_timeout, connect_timeout=connect_timeout,
                            pool_timeout=pool_timeout)
    return StreamRequest(pool_size=pool_size, read_timeout=read_timeout,
                         write_timeout=write_timeout, connect_timeout=connect_timeout,
                         pool_timeout=pool_timeout)


@dataclass(frozen=True)
class Origin:
    """Where a connection goes: scheme, host and port."""

    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(eq=False)  # compared and hashed by identity: it is kept in sets
class _Connection:
    """One open socket to an origin."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def reusable(self) -> bool:
        """Still open at both ends and not idle for too long."""
        return (not self.writer.is_closing() and not self.reader.at_eof()
                and time.monotonic() - self.idle_since < KEEPALIVE_SECONDS)

    def close(self) -> None:
        """Close the socket without waiting for the other side."""
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    keep_alive: bool


class StreamRequest(BaseRequest):
    """A `BaseRequest` on asyncio streams: HTTP/1.1, keep-alive, a bounded pool, TLS verified."""

    def __init__(self, pool_size: int = 1, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._pool_size = pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout,
                          "connect": connect_timeout, "pool": pool_timeout,
                          "media_write": media_write_timeout}
        self._ssl = ssl_context
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[Origin, list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._open = False

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not give its own."""
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Get ready to send; the connections themselves are opened when first needed."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._pool_size)
        self._open = True

    async def shutdown(self) -> None:
        """Close every connection, idle or in use."""
        self._open = False
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        for connection in list(self._busy):
            connection.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE,
                         write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        """Send one request and return the status code and the body."""
        if not self._open or self._slots is None:
            raise RuntimeError("This StreamRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        timeouts = {
            "read": self._given(read_timeout, "read"),
            "write": self._given(write_timeout, "media_write" if files else "write"),
            "connect": self._given(connect_timeout, "connect"),
        }
        origin, target = _split(url)
        head_fields, body = _encode(request_data)
        head = _head(method, target, origin, head_fields, len(body))
        try:
            async with _timeout(self._given(pool_timeout, "pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut("Pool timeout: All connections in the connection pool are occupied. "
                           "Request was *not* sent to Telegram. Consider adjusting the "
                           "connection pool size or the pool timeout.") from None
        try:
            return await self._exchange(origin, head, body, method, timeouts)
        finally:
            self._slots.release()

    def _given(self, value: Any, kind: str) -> float | None:
        """A call's own timeout, or this client's default for that kind."""
        if isinstance(value, (int, float)) or value is None:
            return value
        return self._timeouts[kind]

    async def _exchange(self, origin: Origin, head: bytes, body: bytes, method: str,
                        timeouts: dict[str, float | None]) -> tuple[int, bytes]:
        connection = await self._connection(origin, timeouts["connect"])
        self._busy.add(connection)
        keep = False
        try:
            connection.writer.write(head + body)
            async with _timeout(timeouts["write"]):
                await connection.writer.drain()
            async with _timeout(timeouts["read"]):
                response = await _read_response(connection.reader, method)
            keep = response.keep_alive and self._open
            return response.status, response.body
        except TimeoutError:
            raise TimedOut() from None
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            raise NetworkError(f"{type(exc).__name__}: {_reason(exc)}") from None
        finally:
            self._busy.discard(connection)
            if keep:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(origin, []).append(connection)
            else:
                connection.close()

    async def _connection(self, origin: Origin, timeout: float | None) -> _Connection:
        """An idle connection to `origin` that is still good, else a new one."""
        idle = self._idle.get(origin, [])
        while idle:
            # The most recently used first: it is the least likely to have been closed.
            connection = idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        context: ssl.SSLContext | None = None
        if origin.scheme == "https":
            context = self._ssl or _default_context()
        try:
            async with _timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    origin.host, origin.port, ssl=context,
                    server_hostname=origin.host if context else None, limit=MAX_HEAD)
        except TimeoutError:
            raise TimedOut("Timed out while connecting to the Bot API") from None
        except (OSError, ssl.SSLError) as exc:
            raise NetworkError(f"cannot connect to {origin.host}:{origin.port}: "
                               f"{_reason(exc)}") from None
        return _Connection(reader, writer)


def _reason(exc: BaseException) -> str:
    """An error's message, or its type when it has none (an empty message helps nobody)."""
    return str(exc) or type(exc).__name__


@functools.cache
def _default_context() -> ssl.SSLContext:
    """Certificate-verifying TLS, with the CA bundle httpx would use (certifi) when present."""
    try:
        import certifi
        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with httpx, which PTB needs
        return ssl.create_default_context()


def _split(url: str) -> tuple[Origin, str]:
    """The origin and the request target (path and query) of an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError(f"not an http(s) URL: {parts.scheme}://{parts.hostname or ''}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(parts.scheme, parts.hostname, port), target


def _encode(request_data: RequestData | None) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body: form-encoded fields, or multipart when there are files (as httpx)."""
    if request_data is None:
        return [], b""
    if not request_data.contains_files:
        return ([("Content-Type", "application/x-www-form-urlencoded")],
                request_data.url_encoded_parameters().encode("ascii"))
    boundary = secrets.token_hex(16)
    chunks: list[bytes] = []
    for name, value in request_data.json_parameters.items():
        chunks.append(_part_head(boundary, name, None, None) + value.encode("utf-8") + b"\r\n")
    for name, upload in request_data.multipart_data.items():
        filename, content, mimetype = upload
        data = content if isinstance(content, bytes) else content.read()
        chunks.append(_part_head(boundary, name, filename, mimetype) + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return [("Content-Type", f"multipart/form-data; boundary={boundary}")], b"".join(chunks)


def _part_head(boundary: str, name: str, filename: str | None, mimetype: str | None) -> bytes:
    disposition = f'form-data; name="{_quote(name)}"'
    if filename is not None:
        disposition += f'; filename="{_quote(filename)}"'
    lines = [f"--{boundary}", f"Content-Disposition: {disposition}"]
    if filename is not None:
        lines.append(f"Content-Type: {mimetype or 'application/octet-stream'}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _quote(value: str) -> str:
    """A form-data parameter value with the characters that would end it escaped (as httpx)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D") \
        .replace("\n", "%0A")


def _head(method: str, target: str, origin: Origin, fields: list[tuple[str, str]],
          length: int) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.host_header}",
             f"User-Agent: {BaseRequest.USER_AGENT}", "Accept: */*",
             "Accept-Encoding: identity", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in fields]
    if length or method == "POST":
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_response(reader: asyncio.StreamReader, method: str) -> _Response:
    """Read one response: status line, headers, then a body by length, chunks or close."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise ValueError(f"not an HTTP/1.x response: {status_line[:60]!r}")
        status = int(rest[:3])
        if status != 100:  # "100 Continue" comes before the real answer; skip it
            break
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and (version == "HTTP/1.1" or
                                                "keep-alive" in connection)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return _Response(status, b"", keep_alive)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _Response(status, await _read_chunks(reader), keep_alive)
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length < 0:
            raise ValueError(f"negative Content-Length {length}")
        return _Response(status, await reader.readexactly(length), keep_alive)
    # No length and no chunks: the body runs to the end of the connection.
    return _Response(status, await reader.read(), False)


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    """A chunked body, trailers skipped."""
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"x", 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields
            return bytes(body)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("a chunk did not end with CRLF")
