"""`GET /healthz` beside the webhook: 200 while the database answers, with what waits in it."""

from __future__ import annotations

import logging
from typing import Any

import tornado.web

from bot.engine.ports.store import StoreError
from bot.storage.sqlite_store import SQLiteStore

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


class HealthHandler(tornado.web.RequestHandler):
    """Answers a monitor. Reads two counts; handles, sends and changes nothing; no secret."""

    def initialize(self, store: SQLiteStore) -> None:
        self.store = store

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        try:
            inbox = self.store.query("SELECT COUNT(*) FROM inbox")[0][0]
            outbox = self.store.query("SELECT COUNT(*) FROM reply_outbox WHERE status = 'pending'")[0][0]  # noqa: E501
        except StoreError as exc:
            # The reason goes to the log, not to whoever can reach this URL.
            log.error("health check failed: %s", exc)
            self.set_status(503)
            self.write({"status": "unavailable"})
            return
        self.write({"status": "ok", "inbox": inbox, "outbox": outbox})


def route(store: SQLiteStore) -> tuple[str, type[HealthHandler], dict[str, Any]]:
    """The tornado rule serving HEALTH_PATH."""
    return (HEALTH_PATH, HealthHandler, {"store": store})
