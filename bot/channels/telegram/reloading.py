"""Reloading content in the running bot: on SIGHUP, and on saved files with --watch."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.content_reload import ContentReloader

log = logging.getLogger(__name__)

# How often --watch looks at the files' sizes and times.
WATCH_INTERVAL = 2.0


class Reloading:
    """Checks new content off the event loop, then swaps it in between turns."""

    def __init__(self, reloader: ContentReloader, watch: bool) -> None:
        self.reloader = reloader
        self.watch = watch
        self._busy = asyncio.Lock()

    async def reload(self) -> None:
        """Validate in a worker thread; swap in on the loop, so no turn sees half of it."""
        async with self._busy:
            checked = await asyncio.to_thread(self.reloader.check)
            self.reloader.apply(checked)

    def install(self, loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[None]]:
        """SIGHUP reloads; with --watch a task also reloads when files change."""
        loop.add_signal_handler(signal.SIGHUP,
                                lambda: loop.create_task(self.reload(), name="reload content"))
        if not self.watch:
            return []
        return [loop.create_task(self._watch(), name="watch content")]

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                if await asyncio.to_thread(self.reloader.changed):
                    await self.reload()
            except Exception:  # a bad file must not stop the bot; the next save tries again
                log.exception("watching the content folders failed")
