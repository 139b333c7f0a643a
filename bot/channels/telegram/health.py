"""`GET /healthz` beside the webhook: 200 while the database answers, with what waits in it."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.engine.ports.store import StoreError
from bot.storage.sqlite_store import SQLiteStore

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
NO_STORE = {"Cache-Control": "no-store"}


def routes(store: SQLiteStore) -> list[web.RouteDef]:
    """The route serving HEALTH_PATH: reads two counts; handles, sends and changes nothing."""

    async def healthz(request: web.Request) -> web.Response:
        try:
            inbox = store.query("SELECT COUNT(*) FROM inbox")[0][0]
            outbox = store.query("SELECT COUNT(*) FROM reply_outbox WHERE status = 'pending'")[0][0]
        except StoreError as exc:
            # The reason goes to the log, not to whoever can reach this URL.
            log.error("health check failed: %s", exc)
            return web.json_response({"status": "unavailable"}, status=503, headers=NO_STORE)
        return web.json_response({"status": "ok", "inbox": inbox, "outbox": outbox},
                                 headers=NO_STORE)

    return [web.get(HEALTH_PATH, healthz)]
