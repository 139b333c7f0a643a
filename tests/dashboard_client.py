"""A dashboard over a coordinator world's SQLite database, and a browser-like client for it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from coordinator_world import Chat, World
from multidict import CIMultiDictProxy

from bot.channels import http_server
from bot.dashboard.app import routes
from bot.dashboard.site import Site
from bot.storage.dashboard_store import SQLiteDashboard
from bot.storage.sqlite_store import SQLiteStore

LINK = re.compile(r"https://dash\.example\.org(/login/[A-Za-z0-9_-]+)")


def site_of(world: World) -> Site:
    """The dashboard of a SQLite world, on the world's clock."""
    assert isinstance(world.store, SQLiteStore) and isinstance(world.dashboard, SQLiteDashboard)
    return Site(lambda: world.content, world.store, world.directory, world.roles,
                world.practice, world.reminders, world.dashboard, clock=world.clock)


@dataclass(frozen=True)
class Page:
    """What the browser got."""

    status: int
    text: str
    headers: CIMultiDictProxy[str]
    body: bytes = b""


class Browser:
    """One browser (one cookie jar) talking to the dashboard, driven synchronously."""

    def __init__(self, site: Site) -> None:
        self.loop = asyncio.new_event_loop()
        app = http_server.application(routes(site))

        async def start() -> TestClient[web.Request, web.Application]:
            client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
            await client.start_server()
            return client
        self.client = self.loop.run_until_complete(start())

    def _page(self, method: str, path: str, **kwargs: object) -> Page:
        async def go() -> Page:
            async with self.client.request(method, path, allow_redirects=True,
                                           **kwargs) as response:
                body = await response.read()
                return Page(response.status, body.decode("utf-8", "replace"), response.headers,
                            body)
        return self.loop.run_until_complete(go())

    def get(self, path: str, **kwargs: object) -> Page:
        return self._page("GET", path, **kwargs)

    def post(self, path: str, data: dict[str, str], **kwargs: object) -> Page:
        return self._page("POST", path, data=data, **kwargs)

    def sign_in(self, link_path: str) -> Page:
        """Open the link and press Continue, as a person would."""
        shown = self.get(link_path)
        token = re.search(r'name="token" value="([^"]+)"', shown.text)
        assert token is not None, shown.text
        return self.post("/login", {"token": token.group(1)})

    def csrf(self, page: Page) -> str:
        found = re.search(r'name="csrf" value="([^"]*)"', page.text)
        assert found is not None, page.text
        return found.group(1)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


def link_for(chat: Chat) -> str:
    """The path of the sign-in link the bot gives `chat` for /dashboard."""
    chat.send("/dashboard")
    found = LINK.search(chat.text())
    assert found is not None, chat.text()
    return found.group(1)
