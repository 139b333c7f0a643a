"""Starts the Telegram channel: checks the token, sets the menu, runs until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.channels.telegram import poller, redaction, webhook
from bot.channels.telegram.broadcaster import BroadcastSender
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import (
    BASE_URL_ENV,
    TOKEN_ENV,
    ConfigError,
    TelegramConfig,
    WebhookConfig,
)
from bot.channels.telegram.http_client import make_request
from bot.channels.telegram.menus import RoleMenus
from bot.channels.telegram.pacing import Limits, Pacing
from bot.channels.telegram.periodic import Periodic
from bot.channels.telegram.reloading import Reloading
from bot.channels.telegram.sqlite_channel import sqlite_channel
from bot.engine.core.events import UserKey
from bot.engine.engine import Engine
from bot.engine.features.dashboard.feature import URL_ENV as DASHBOARD_URL_ENV
from bot.engine.features.teams.feature import TeamsFeature
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import SetSetting
from bot.storage.directory_store import SQLiteDirectory
from bot.storage.sqlite_store import SQLiteStore

if TYPE_CHECKING:
    from bot.wiring import Parts

log = logging.getLogger(__name__)

# After SIGTERM, work in flight gets this long to finish (the issue allows 5 s in all).
STOP_GRACE = 4.0

Source = Callable[[Bot, TelegramChannel], Coroutine[Any, Any, None]]


def make_bot(config: TelegramConfig) -> Bot:
    """A PTB Bot with a connection pool big enough for every concurrent chat and copy."""
    request = make_request(pool_size=config.concurrency + config.broadcast_concurrency + 4,
                           read_timeout=config.read_timeout, write_timeout=config.read_timeout,
                           connect_timeout=config.read_timeout, pool_timeout=config.read_timeout)
    # getUpdates has a connection of its own, so a long poll never waits behind replies.
    polling = make_request(pool_size=1, read_timeout=config.read_timeout,
                           write_timeout=config.read_timeout,
                           connect_timeout=config.read_timeout, pool_timeout=config.read_timeout)
    return Bot(config.token, base_url=config.base_url, base_file_url=config.base_file_url,
               request=request, get_updates_request=polling)


async def connect(bot: Bot, config: TelegramConfig) -> str:
    """Check the token with getMe; return the bot's username."""
    try:
        await bot.initialize()
    except InvalidToken as exc:
        raise ConfigError(f"the Bot API at {config.base_url} rejected {TOKEN_ENV}; copy the "
                          f"token from @BotFather again (and check {BASE_URL_ENV} if you run "
                          "your own Bot API server)") from exc
    except NetworkError as exc:
        raise ConfigError(f"cannot reach the Bot API at {config.base_url} ({exc.message}); "
                          f"check {BASE_URL_ENV} and the network") from exc
    return bot.username


def remember_username(engine: Engine, directory: SQLiteDirectory, store: SQLiteStore,
                      username: str) -> None:
    """Invite links name the real bot (getMe), in chat and in `ccbot teams` from now on."""
    if directory.setting("bot_username") != username:
        commit_ops(store, [SetSetting("bot_username", username)])
    for feature in engine.features:
        if isinstance(feature, TeamsFeature):
            feature.bot_username = username


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())


async def serve(config: TelegramConfig, engine: Engine, store: SQLiteStore,
                source: Source, parts: Parts | None = None,
                reloading: Reloading | None = None) -> int:
    """Run the channel with updates from `source` until a signal; return the exit status.

    Beside receiving updates it sends broadcasts (broadcaster.py), runs due schedules and
    weekly digests (periodic.py) and keeps role menus (menus.py); one pacer paces every
    message (pacing.py).
    """
    if parts is None:
        from bot.wiring import engine_parts

        parts = engine_parts(store)
    bot = make_bot(config)
    try:
        username = await connect(bot, config)
        remember_username(engine, parts.directory, store, username)
        pacing = Pacing(Limits(config.rate, config.chat_rate, config.group_per_minute))
        channel = sqlite_channel(bot, engine, store, username, config.concurrency,
                                 pacing=pacing)
        menus = RoleMenus(bot, engine, store, parts.roles)
        await menus.start()
        broadcasts = BroadcastSender(channel, parts.directory, pacing,
                                     config.broadcast_concurrency)
        # Before anything is sent: rows a kill left 'sending' are counted and put back.
        broadcasts.recover()
        left = channel.resume()
        if left:
            log.info("handling %d update(s) left from the last run first", left)

        def after_turn(user: UserKey) -> None:
            if menus.after_turn(user):
                broadcasts.wake()  # only role holders can have just created a broadcast

        channel.turn_hooks.append(after_turn)
        periodic = Periodic(channel, store, parts.directory, parts.roles, broadcasts, menus,
                            practice=parts.practice, reminders=parts.reminders)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        watchers = reloading.install(loop) if reloading is not None else []
        receiving = asyncio.create_task(source(bot, channel), name="receive updates")
        stopping = asyncio.create_task(stop.wait(), name="wait for a signal")
        background = [asyncio.create_task(broadcasts.run(), name="send broadcasts"),
                      asyncio.create_task(periodic.run(config.schedule_interval),
                                          name="schedules, digests and menus")]
        for task in background:
            task.add_done_callback(_log_crash)
        await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        # Stop taking updates first: what is not handled stays in the inbox for the next start.
        receiving.cancel()
        stopping.cancel()
        await asyncio.gather(receiving, stopping, return_exceptions=True)
        background[1].cancel()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(channel.queues.close(STOP_GRACE),
                             broadcasts.close(STOP_GRACE), menus.close())
        background[0].cancel()
        await asyncio.gather(*background, return_exceptions=True)
        error = None if receiving.cancelled() else receiving.exception()
        if error is not None:
            if isinstance(error, InvalidToken):
                raise ConfigError(f"the Bot API stopped accepting {TOKEN_ENV}; copy the token "
                                  "from @BotFather again") from error
            # Logged, not raised: a traceback on stderr would bypass the token filter.
            log.error("stopped receiving updates", exc_info=error)
            return 1
        log.info("stopped")
        return 0
    finally:
        await bot.shutdown()


def run_polling(config: TelegramConfig, engine: Engine, store: SQLiteStore,
                parts: Parts | None = None, reloading: Reloading | None = None) -> int:
    """`ccbot run`: long polling until SIGTERM."""
    redaction.install(config.token)
    return asyncio.run(serve(config, engine, store,
                             lambda bot, channel: poller.poll(bot, channel, config.poll_timeout,
                                                              config.read_timeout), parts,
                             reloading))


def run_webhook(config: TelegramConfig, hook: WebhookConfig, engine: Engine,
                store: SQLiteStore, parts: Parts | None = None,
                reloading: Reloading | None = None) -> int:
    """`ccbot webhook`: serve Telegram's POSTs until SIGTERM."""
    # PTB logs setWebhook's secret_token; with it anyone could post updates as any user.
    redaction.install(config.token, hook.secret)
    if parts is None:
        from bot.wiring import engine_parts

        parts = engine_parts(store)
    beside = dashboard_routes(engine, store, parts)
    return asyncio.run(serve(config, engine, store,
                             lambda bot, channel: webhook.serve(bot, channel, hook, store,
                                                                beside), parts, reloading))


def dashboard_routes(engine: Engine, store: SQLiteStore, parts: Parts) -> list[Any]:
    """The dashboard's routes when $CCBOT_DASHBOARD_URL says where it is, else none."""
    if not os.environ.get(DASHBOARD_URL_ENV):
        return []
    from bot.dashboard.app import routes, site_of

    return list(routes(site_of(lambda: engine.content, store, parts)))
