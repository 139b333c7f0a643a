"""Starts the Telegram channel: checks the token, sets the menu, runs until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot, BotCommand
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.telegram import poller, redaction, webhook
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.commands import menu
from bot.channels.telegram.config import (
    BASE_URL_ENV,
    TOKEN_ENV,
    ConfigError,
    TelegramConfig,
    WebhookConfig,
)
from bot.definitions.model import DEFAULT_LOCALE
from bot.engine.engine import Engine
from bot.storage.sqlite_store import SQLiteStore

log = logging.getLogger(__name__)

# After SIGTERM, work in flight gets this long to finish (the issue allows 5 s in all).
STOP_GRACE = 4.0

Source = Callable[[Bot, TelegramChannel], Coroutine[Any, Any, None]]


def make_bot(config: TelegramConfig) -> Bot:
    """A PTB Bot with a connection pool big enough for every concurrent chat."""
    request = HTTPXRequest(connection_pool_size=config.concurrency + 4,
                           read_timeout=config.read_timeout, write_timeout=config.read_timeout,
                           connect_timeout=config.read_timeout,
                           pool_timeout=config.read_timeout)
    polling = HTTPXRequest(read_timeout=config.read_timeout, connect_timeout=config.read_timeout)
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


async def set_menu(bot: Bot, engine: Engine) -> None:
    """Publish the command menu, per language; a failure only leaves the old menu."""
    extra = [c.name for c in engine.commands.values() if c.requires is None]
    for locale, entries in menu(engine.content, extra).items():
        try:
            await bot.set_my_commands([BotCommand(name, text) for name, text in entries],
                                      language_code=None if locale == DEFAULT_LOCALE else locale)
        except TelegramError as exc:
            log.warning("could not set the command menu for %s: %s", locale, exc)


async def serve(config: TelegramConfig, engine: Engine, store: SQLiteStore,
                source: Source) -> int:
    """Run the channel with updates from `source` until a signal; return the exit status."""
    bot = make_bot(config)
    try:
        username = await connect(bot, config)
        channel = TelegramChannel(bot, engine, store, username, config.concurrency)
        await set_menu(bot, engine)
        left = channel.resume()
        if left:
            log.info("handling %d update(s) left from the last run first", left)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        receiving = asyncio.create_task(source(bot, channel), name="receive updates")
        stopping = asyncio.create_task(stop.wait(), name="wait for a signal")
        await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        # Stop taking updates first: what is not handled stays in the inbox for the next start.
        receiving.cancel()
        stopping.cancel()
        await asyncio.gather(receiving, stopping, return_exceptions=True)
        await channel.scheduler.close(STOP_GRACE)
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


def run_polling(config: TelegramConfig, engine: Engine, store: SQLiteStore) -> int:
    """`ccbot run`: long polling until SIGTERM."""
    redaction.install(config.token)
    return asyncio.run(serve(config, engine, store,
                             lambda bot, channel: poller.poll(bot, channel, config.poll_timeout,
                                                              config.read_timeout)))


def run_webhook(config: TelegramConfig, hook: WebhookConfig, engine: Engine,
                store: SQLiteStore) -> int:
    """`ccbot webhook`: serve Telegram's POSTs until SIGTERM."""
    redaction.install(config.token)
    return asyncio.run(serve(config, engine, store,
                             lambda bot, channel: webhook.serve(bot, channel, hook)))
