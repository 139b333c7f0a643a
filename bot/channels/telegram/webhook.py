"""The webhook: Telegram posts updates; each is in the inbox before we answer 200."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Bot

from bot.channels.telegram import health
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import WebhookConfig
from bot.channels.telegram.poller import ALLOWED_UPDATES
from bot.engine.ports.store import StoreError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A Telegram update is a few kilobytes; anything much bigger is not from Telegram.
MAX_BODY = 1024 * 1024


class UpdateHandler(tornado.web.RequestHandler):
    """Receives one update per POST from Telegram."""

    def initialize(self, channel: TelegramChannel, secret: str) -> None:
        self.channel = channel
        self.secret = secret.encode()

    def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        # Compared in constant time so the secret cannot be guessed byte by byte.
        if not hmac.compare_digest(given, self.secret):
            log.warning("webhook request from %s without the right secret: refused",
                        self.request.remote_ip)
            self.set_status(403)
            return
        try:
            update: Any = json.loads(self.request.body)
        except ValueError:
            update = None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            self.set_status(400)
            return
        try:
            self.channel.receive([update])
        except StoreError as exc:
            # Not stored, so not acknowledged: Telegram will deliver it again.
            log.error("could not store update %s: %s", update["update_id"], exc)
            self.set_status(500)
            return
        self.set_status(200)

    def get(self) -> None:
        self.set_status(405)


def listen(channel: TelegramChannel, config: WebhookConfig) -> tornado.httpserver.HTTPServer:
    """Start the HTTP server on the running event loop."""
    app = tornado.web.Application([
        (re.escape(config.path), UpdateHandler, {"channel": channel, "secret": config.secret}),
        # Operations: GET /healthz for a monitor (bot/channels/telegram/health.py).
        health.route(channel.engine.store),  # type: ignore[arg-type]  # on SQLite
    ])
    return app.listen(config.port, address=config.listen, max_body_size=MAX_BODY,
                      xheaders=True)


async def serve(bot: Bot, channel: TelegramChannel, config: WebhookConfig) -> None:
    """Listen, point Telegram at us, and serve until cancelled."""
    server = listen(channel, config)
    try:
        # Listening first, so the first delivery after setWebhook finds us.
        await bot.set_webhook(config.url, secret_token=config.secret,
                              allowed_updates=list(ALLOWED_UPDATES))
        log.info("webhook set; listening on %s:%s%s", config.listen, config.port, config.path)
        await asyncio.Event().wait()
    finally:
        server.stop()
