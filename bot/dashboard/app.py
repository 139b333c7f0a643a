"""The dashboard's routes on the one aiohttp stack (bot/channels/http_server.py).

`routes(site)` are served by `ccbot dashboard` on their own, and beside the webhook and
/healthz when `ccbot webhook` runs with $CCBOT_DASHBOARD_URL set. Pages are HTML rendered
on the server; the one stylesheet is served from here; nothing is fetched from elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.dashboard import broadcast_pages, login, pages
from bot.dashboard.security import secure_headers
from bot.dashboard.site import Site, Viewer
from bot.definitions.model import Content
from bot.engine.ports.releases import ReleaseConflict
from bot.storage.sqlite_store import SQLiteStore

log = logging.getLogger(__name__)
# A conflict needs another process releasing to the same person at the same instant; a third
# in a row is a fault, shown as one.
CONFLICT_TRIES = 3
STATIC = Path(__file__).resolve().parent / "static"
STYLESHEET = (STATIC / "dashboard.css").read_bytes()

if TYPE_CHECKING:
    from bot.wiring import Parts


def routes(site: Site) -> list[web.RouteDef]:
    """Every dashboard route: sign-in and out, the pages, the stylesheet."""

    async def stylesheet(request: web.Request) -> web.StreamResponse:
        response = web.Response(body=STYLESHEET, content_type="text/css")
        secure_headers(response)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    def signed(name: str, handler: login.Page) -> login.Handler:
        return login.signed_in(site, name, decided_afresh(handler))

    return [
        *login.routes(site),
        web.get("/static/dashboard.css", stylesheet),
        web.get("/", signed("overview", pages.overview)),
        web.get("/teams", signed("teams", pages.teams)),
        web.get("/teams/{team_id}", signed("team:{team_id}", pages.team)),
        web.get("/broadcasts", signed("broadcasts", broadcast_pages.broadcasts)),
        web.get("/export", signed("export", broadcast_pages.export_page)),
        web.post("/export", signed("export", broadcast_pages.export_download)),
    ]


def decided_afresh(handler: login.Page) -> login.Page:
    """`handler`, run again when the figures it decided met a release another process made
    to the same viewer meanwhile (the store refuses them: ReleaseConflict)."""

    async def run(request: web.Request, site: Site, viewer: Viewer) -> web.StreamResponse:
        for _ in range(CONFLICT_TRIES - 1):
            try:
                return await handler(request, site, viewer)
            except ReleaseConflict:
                log.info("page %s decided again: a release to the same viewer came first",
                         request.path)
        return await handler(request, site, viewer)

    return run


def site_of(content: Callable[[], Content], store: SQLiteStore, parts: Parts) -> Site:
    """The dashboard over the bot's parts and database."""
    return Site(content, store, parts.directory, parts.roles, parts.practice, parts.reminders,
                parts.dashboard)
