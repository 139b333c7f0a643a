"""Long polling: a batch from getUpdates is in the inbox before the next offset confirms it."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from telegram import Bot
from telegram.error import EndPointNotFound, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.outcomes import retry_seconds
from bot.engine.ports.store import StoreError

log = logging.getLogger(__name__)

# Edited messages are not asked for: they must not re-answer old questions anyway.
ALLOWED_UPDATES = ("message", "callback_query")
MAX_BACKOFF = 30.0


async def fetch(bot: Bot, offset: int | None, timeout: int,
                read_timeout: float) -> list[dict[str, Any]]:
    """One getUpdates call, answered as plain JSON.

    Bot.get_updates parses the whole batch into PTB objects, and one update PTB cannot parse
    (a field newer or older than PTB) fails the batch, again at every call: polling would be
    stuck. Raw JSON goes into the inbox as Telegram sent it; translate.py reads what it needs.
    """
    kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(ALLOWED_UPDATES)}
    if offset is not None:
        kwargs["offset"] = offset
    result = await bot.do_api_request("getUpdates", api_kwargs=kwargs,
                                      read_timeout=read_timeout + timeout)
    if not isinstance(result, list):
        raise TelegramError(f"getUpdates answered {type(result).__name__}, not a list")
    return [u for u in result if isinstance(u, dict) and isinstance(u.get("update_id"), int)]


async def poll(bot: Bot, channel: TelegramChannel, timeout: int, read_timeout: float) -> None:
    """Fetch updates until cancelled; never move the offset past an update not yet stored."""
    # We call getUpdates through do_api_request on purpose (see fetch); PTB would warn each time.
    warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'",
                            category=PTBUserWarning)
    # Polling fails with 409 while a webhook is set; pending updates are kept.
    await bot.delete_webhook(drop_pending_updates=False)
    # No offset on the first call: Telegram resends whatever it has not seen confirmed, and
    # the inbox skips what it already holds or has handled.
    offset: int | None = None
    failures = 0
    while True:
        await channel.queues.wait_for_room()
        try:
            updates = await fetch(bot, offset, timeout, read_timeout)
            if updates:
                channel.receive(updates)
        except RetryAfter as exc:
            await asyncio.sleep(retry_seconds(exc))
            continue
        except (InvalidToken, EndPointNotFound) as exc:
            # do_api_request reports a revoked token as an unknown endpoint.
            raise InvalidToken(str(exc)) from exc
        except (TelegramError, StoreError) as exc:
            failures += 1
            delay = min(MAX_BACKOFF, 0.5 * 2 ** failures)
            log.warning("getUpdates failed (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if updates:
            offset = max(u["update_id"] for u in updates) + 1
