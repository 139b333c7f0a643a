"""The webhook: Telegram posts updates; each is in the inbox before we answer 200."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiohttp import web
from telegram import Bot

from bot.channels import http_server
from bot.channels.telegram import health
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import WebhookConfig
from bot.channels.telegram.poller import ALLOWED_UPDATES
from bot.engine.ports.store import StoreError
from bot.storage.sqlite_store import SQLiteStore

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def routes(channel: TelegramChannel, config: WebhookConfig) -> list[web.RouteDef]:
    """POST on the webhook path: one update per request from Telegram (other methods: 405)."""
    secret = config.secret.encode()

    async def receive(request: web.Request) -> web.Response:
        # surrogateescape: the header's bytes as sent, whatever they are, so a strange value
        # is refused like any other wrong one instead of failing to encode.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        # Compared in constant time so the secret cannot be guessed byte by byte; checked
        # before the body is read, so a stranger cannot make us read a megabyte.
        if not hmac.compare_digest(given, secret):
            log.warning("webhook request from %s without the right secret: refused",
                        request.remote)
            return web.Response(status=403)
        try:
            update: Any = json.loads(await request.read())
        except ValueError:
            update = None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400)
        try:
            channel.receive([update])
        except StoreError as exc:
            # Not stored, so not acknowledged: Telegram will deliver it again.
            log.error("could not store update %s: %s", update["update_id"], exc)
            return web.Response(status=500)
        return web.Response(status=200)

    return [web.post(config.path, receive)]


def application(channel: TelegramChannel, config: WebhookConfig, store: SQLiteStore,
                beside: Sequence[web.RouteDef] = ()) -> web.Application:
    """The webhook and, for operations, GET /healthz (health.py) in one application, with
    the routes `beside` (the dashboard's, when it is served here)."""
    return http_server.application(routes(channel, config), health.routes(store), beside)


@contextlib.asynccontextmanager
async def listening(channel: TelegramChannel, config: WebhookConfig, store: SQLiteStore,
                    beside: Sequence[web.RouteDef] = ()) -> AsyncIterator[int]:
    """Serve the webhook on the running event loop while the block runs; yields the port."""
    async with http_server.running(application(channel, config, store, beside),
                                   config.listen, config.port) as port:
        yield port


async def serve(bot: Bot, channel: TelegramChannel, config: WebhookConfig,
                store: SQLiteStore, beside: Sequence[web.RouteDef] = ()) -> None:
    """Listen, point Telegram at us, and serve until cancelled."""
    async with listening(channel, config, store, beside):
        # Listening first, so the first delivery after setWebhook finds us.
        await bot.set_webhook(config.url, secret_token=config.secret,
                              allowed_updates=list(ALLOWED_UPDATES))
        log.info("webhook set; listening on %s:%s%s", config.listen, config.port, config.path)
        await asyncio.Event().wait()
