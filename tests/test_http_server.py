"""The one aiohttp application: the webhook's answers, the forwarded address, start and stop."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import aiohttp
import pytest

from bot.channels import http_server
from bot.channels.telegram import webhook
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import WebhookConfig
from bot.engine.ports.store import StoreError

SECRET = "s3cret-Token"
UPDATE = json.dumps({"update_id": 7, "message": {"text": "hi"}}).encode()


class Channel:
    """Stands in for TelegramChannel: keeps what it receives, or fails like a full disk."""

    def __init__(self, fail: bool = False) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail = fail

    def receive(self, updates: list[dict[str, Any]]) -> None:
        if self.fail:
            raise StoreError("database or disk is full")
        self.received.extend(updates)


@asynccontextmanager
async def hook(channel: Channel) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """The webhook's routes served on a free port, and a client session for them."""
    config = WebhookConfig("127.0.0.1", 0, "https://bot.example.org/tg", SECRET)
    app = http_server.application(webhook.routes(cast(TelegramChannel, channel), config))
    async with http_server.running(app, "127.0.0.1", 0) as port, \
            aiohttp.ClientSession() as client:
        yield f"http://127.0.0.1:{port}/tg", client


async def status(client: aiohttp.ClientSession, method: str, url: str,
                 body: bytes | io.BytesIO = b"", headers: dict[str, str] | None = None) -> int:
    async with client.request(method, url, data=body, headers=headers) as answer:
        return answer.status


def test_the_webhook_answers_each_kind_of_request_as_documented() -> None:
    channel = Channel()

    async def scenario() -> None:
        async with hook(channel) as (url, client):
            ok = {webhook.SECRET_HEADER: SECRET}
            assert await status(client, "GET", url) == 405
            assert await status(client, "POST", url + "/other", UPDATE, ok) == 404
            assert await status(client, "POST", url, b"[1, 2]", ok) == 400
            assert await status(client, "POST", url, b'{"update_id": "7"}', ok) == 400
            too_big = io.BytesIO(b'{"update_id": 8, "x": "' + b"y" * (1024 * 1024) + b'"}')
            assert await status(client, "POST", url, too_big, ok) == 413
            assert channel.received == []
            assert await status(client, "POST", url, UPDATE, ok) == 200
            assert channel.received == [json.loads(UPDATE)]

    asyncio.run(scenario())


def test_an_update_that_cannot_be_stored_is_not_acknowledged() -> None:
    async def scenario() -> None:
        async with hook(Channel(fail=True)) as (url, client):
            assert await status(client, "POST", url, UPDATE,
                                {webhook.SECRET_HEADER: SECRET}) == 500

    asyncio.run(scenario())


def test_a_refusal_logs_the_forwarded_address_and_never_the_secret_sent(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with hook(Channel()) as (url, client):
            for headers in ({"X-Real-Ip": "203.0.113.9", "X-Forwarded-For": "198.51.100.1"},
                            {"X-Forwarded-For": "198.51.100.1, 192.0.2.44"},
                            {"X-Forwarded-For": "not-an-address"}):
                headers[webhook.SECRET_HEADER] = "guess-Token"
                assert await status(client, "POST", url, UPDATE, headers) == 403

    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram.webhook"):
        asyncio.run(scenario())
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert [m.split()[3] for m in refused] == ["203.0.113.9", "192.0.2.44", "127.0.0.1"]
    assert "guess-Token" not in caplog.text


def test_a_secret_header_that_is_not_utf8_is_refused_like_any_wrong_one() -> None:
    async def scenario() -> None:
        async with hook(Channel()) as (url, _):
            port = int(url.split(":")[2].split("/")[0])
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /tg HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                         b"X-Telegram-Bot-Api-Secret-Token: s3cret-\xff\xfe\r\n\r\n{}")
            answer = await reader.readline()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 403")

    asyncio.run(scenario())


def test_the_server_stops_listening_when_its_task_is_cancelled() -> None:
    async def scenario() -> None:
        started: asyncio.Queue[int] = asyncio.Queue()

        async def serve() -> None:
            async with http_server.running(http_server.application(), "127.0.0.1", 0) as port:
                started.put_nowait(port)
                await asyncio.Event().wait()

        task = asyncio.create_task(serve())
        port = await started.get()
        (await asyncio.open_connection("127.0.0.1", port))[1].close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    asyncio.run(scenario())
