"""The one aiohttp web application a process serves: the webhook, /healthz, later the dashboard.

Each feature hands over its routes (`application(...)`); `running(...)` listens until the
surrounding task is cancelled and then closes every connection.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.web_log import AccessLogger

log = logging.getLogger(__name__)

# A Telegram update is a few kilobytes; anything much bigger is not from Telegram.
MAX_BODY = 1024 * 1024
# What is in flight at a stop gets this long: a handler here only writes a row, and a
# stuck client must not use up the bot's stop budget (app.STOP_GRACE).
SHUTDOWN_SECONDS = 1.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Paths whose last part is a secret (the dashboard's one-time sign-in links): the access log
# shows them without it.
SECRET_PATHS = ("/login/",)
# Every response of the stack carries these, aiohttp's own error pages and redirects too
# (`application`): no script, nothing from elsewhere, no framing, no referrer, no caching.
# A handler may set one itself (the stylesheet's Cache-Control); then it is left alone.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class RedactingAccessLog(AccessLogger):
    """The access log, with the token of a sign-in link replaced by 'redacted'."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        for prefix in SECRET_PATHS:
            if request.path.startswith(prefix) and len(request.path) > len(prefix):
                request = request.clone(rel_url=prefix + "redacted")
        super().log(request, response, time)


def application(*route_tables: Iterable[web.AbstractRouteDef],
                max_body: int = MAX_BODY) -> web.Application:
    """One application serving every route table given, bodies capped at `max_body`."""
    app = web.Application(client_max_size=max_body, middlewares=[forwarded_address])
    for routes in route_tables:
        app.add_routes(routes)
    app.on_response_prepare.append(_security_headers)
    return app


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@contextlib.asynccontextmanager
async def running(app: web.Application, host: str, port: int) -> AsyncIterator[int]:
    """Serve `app` on host:port while the block runs; yields the port bound (for port 0)."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS,
                           access_log=logging.getLogger("aiohttp.access"),
                           access_log_class=RedactingAccessLog,
                           access_log_format='%a "%r" %s %b %Tfs')
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        yield int(bound)
    finally:
        await runner.cleanup()


def forwarded_for(real_ip: str, forwarded: str) -> str | None:
    """The client's address a proxy reported: X-Real-Ip, else the last X-Forwarded-For entry.

    As tornado's `xheaders` did; an entry that is not an IP address is ignored.
    """
    candidate = real_ip.strip() or forwarded.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None


@web.middleware
async def forwarded_address(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`request.remote` is the client a local proxy forwarded for, when it says so.

    Used for log lines only: anyone who can reach the port could set these headers.
    """
    remote = forwarded_for(request.headers.get("X-Real-Ip", ""),
                           request.headers.get("X-Forwarded-For", ""))
    if remote is not None and remote != request.remote:
        request = request.clone(remote=remote)
    return await handler(request)
