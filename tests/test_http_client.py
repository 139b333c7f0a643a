"""The Bot API HTTP client: what PTB needs from it, and how it behaves when the server misbehaves.

tests/tls/ holds a self-signed certificate for localhost and 127.0.0.1 and its key, made for
these tests only (valid until 2126; nothing else trusts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import ssl
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotAPI
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.channels.telegram.http_client import AiohttpRequest, Proxy, env_proxy, make_request

TLS = Path(__file__).parent / "tls"
TOKEN = "123456:SECRET-token-never-in-errors"
USER = 777_000_001

# A handler reads one request from the client and writes what the test wants back; it returns
# False to close the connection afterwards.
Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]


class Scripted:
    """A local HTTP server whose answers the test writes by hand, counting connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.handler(request, writer):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def scripted(handler: Handler, tls: ssl.SSLContext | None = None
                   ) -> AsyncIterator[tuple[Scripted, str]]:
    """A Scripted server on a random port, and the base URL PTB would be given for it."""
    server = Scripted(handler)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    scheme = "https" if tls else "http"
    try:
        yield server, f"{scheme}://127.0.0.1:{port}/bot"
    finally:
        listener.close()
        await listener.wait_closed()


def ok(body: bytes = b'{"ok":true,"result":true}', *extra: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"".join(extra) +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


async def answer_ok(request: bytes, writer: asyncio.StreamWriter) -> bool:
    writer.write(ok())
    return True


async def post(request: AiohttpRequest, base: str, method: str = "deleteWebhook") -> object:
    """The `result` of one Bot API call, as PTB reads it."""
    return await request.post(f"{base}{TOKEN}/{method}")


OPENED: list[AiohttpRequest] = []


async def started(**options: Any) -> AiohttpRequest:
    """An initialised client that `run` shuts down at the end."""
    request = AiohttpRequest(**options)
    await request.initialize()
    OPENED.append(request)
    return request


def run(scenario: Awaitable[None]) -> None:
    """Run a test's scenario, then shut down every client it started (no unclosed sessions)."""
    async def main() -> None:
        try:
            await scenario
        finally:
            while OPENED:
                await OPENED.pop().shutdown()

    asyncio.run(main())


# ---------------------------------------------------------------------- through PTB
def test_ptb_bot_methods_work_through_it_including_uploads_byte_for_byte(
        bot_api: FakeBotAPI) -> None:
    bot_api.send_text(USER, "hello")  # so the chat exists
    document = bytes(range(256)) * 40 + "é\r\n--boundary?".encode()

    async def scenario() -> None:
        bot = Bot(bot_api.token, base_url=bot_api.base_url,
                  request=AiohttpRequest(pool_size=4), get_updates_request=AiohttpRequest())
        async with bot:
            assert bot.username
            await bot.send_message(USER, "ünïcode &amp; 😀 in <b>HTML</b>", parse_mode="HTML")
            sent = await bot.send_message(USER, "to be edited")
            await bot.edit_message_text("edited", chat_id=USER, message_id=sent.message_id)
            await bot.send_document(USER, document, filename='notes "2026".json',
                                    caption="your data")
            await bot.send_photo(USER, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, filename="c.png")
            with pytest.raises(BadRequest):
                await bot.edit_message_text("x", chat_id=USER, message_id=999_999)
            await asyncio.gather(*(bot.send_message(USER, f"n{i}") for i in range(20)))

    run(scenario())
    texts = bot_api.texts(USER)
    assert texts[0] == "ünïcode &amp; 😀 in <b>HTML</b>"
    assert "edited" in texts
    (sent_document,) = bot_api.documents(USER)
    assert sent_document["content"] == document
    assert sent_document["filename"] == 'notes "2026".json'
    assert len(bot_api.photos(USER)) == 1
    assert sum(t.startswith("n") for t in texts) == 20


def test_connections_are_reused_and_bounded_by_the_pool() -> None:
    async def scenario() -> None:
        async with scripted(answer_ok) as (server, base):
            request = await started(pool_size=3)
            for _ in range(10):
                await post(request, base)
            assert server.connections == 1
            await asyncio.gather(*(post(request, base) for _ in range(30)))
            assert server.connections <= 3

    run(scenario())


# ---------------------------------------------------------------------- HTTP details
def test_chunked_bodies_and_100_continue_are_read() -> None:
    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5;ext=1\r\n{\"ok\"\r\n14\r\n:true,\"result\":\"yes\"\r\n1\r\n}\r\n"
                     b"0\r\nX-Trailer: 1\r\n\r\n")
        return True

    async def scenario() -> None:
        async with scripted(chunked) as (server, base):
            request = await started()
            assert await post(request, base) == "yes"
            assert await post(request, base) == "yes"
            assert server.connections == 1

    run(scenario())


def test_connection_close_and_bodies_without_length_open_a_new_connection() -> None:
    answers = [ok(b'{"ok":true,"result":1}', b"Connection: close\r\n"),
               b'HTTP/1.0 200 OK\r\n\r\n{"ok":true,"result":2}', ok(b'{"ok":true,"result":3}')]

    async def in_turn(request: bytes, writer: asyncio.StreamWriter) -> bool:
        answer = answers.pop(0)
        writer.write(answer)
        return answer.startswith(b"HTTP/1.1") and b"close" not in answer

    async def scenario() -> None:
        async with scripted(in_turn) as (server, base):
            request = await started()
            assert [await post(request, base) for _ in range(3)] == [1, 2, 3]
            assert server.connections == 3

    run(scenario())


def test_requests_are_form_encoded_as_ptb_sends_them_with_httpx() -> None:
    async def scenario() -> None:
        async with scripted(answer_ok) as (server, base):
            request = await started()
            bot = Bot(TOKEN, base_url=base, request=request, get_updates_request=AiohttpRequest())
            await bot.answer_callback_query("42", text="a & b é")
            raw = server.requests[-1]
            head, body = raw.split(b"\r\n\r\n", 1)
            assert head.startswith(f"POST /bot{TOKEN}/answerCallbackQuery HTTP/1.1".encode())
            assert b"content-type: application/x-www-form-urlencoded" in head.lower()
            assert body == b"callback_query_id=42&text=a+%26+b+%C3%A9"

    run(scenario())


# ---------------------------------------------------------------------- failures
def test_no_answer_is_a_timeout_and_the_pool_slot_comes_back() -> None:
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    async def scenario() -> None:
        async with scripted(silent) as (_, base):
            request = await started(pool_size=1, read_timeout=0.2, pool_timeout=0.1)
            with pytest.raises(TimedOut):
                await post(request, base)
            # The slot was given back: the next call times out reading, not waiting for a slot.
            with pytest.raises(TimedOut) as second:
                await post(request, base)
            assert "Pool timeout" not in str(second.value)

    run(scenario())


def test_a_full_pool_is_a_pool_timeout_and_nothing_is_sent() -> None:
    async def slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.5)
        writer.write(ok())
        return True

    async def scenario() -> None:
        async with scripted(slow) as (server, base):
            request = await started(pool_size=1, pool_timeout=0.1)
            first = asyncio.ensure_future(post(request, base))
            while not server.requests:  # the first call holds the only connection
                await asyncio.sleep(0.01)
            with pytest.raises(TimedOut, match="Pool timeout"):
                await post(request, base)
            assert await first is True
            assert len(server.requests) == 1

    run(scenario())


def test_refused_connections_and_garbage_are_network_errors_without_the_token() -> None:
    async def garbage(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        return False

    async def scenario() -> None:
        request = await started(connect_timeout=2)
        async with scripted(garbage) as (_, base):
            with pytest.raises(NetworkError) as bad:
                await post(request, base)
            assert TOKEN not in str(bad.value) and "Bad status line" in str(bad.value)
        # The server is gone now: nothing listens on its port.
        with pytest.raises(NetworkError) as refused:
            await post(request, base)
        assert TOKEN not in str(refused.value) and "cannot connect to 127.0.0.1" in \
            str(refused.value)

    run(scenario())


def test_a_truncated_answer_is_a_network_error() -> None:
    async def truncated(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\":")
        return False

    async def scenario() -> None:
        async with scripted(truncated) as (_, base):
            request = await started()
            with pytest.raises(NetworkError, match="ClientPayloadError"):
                await post(request, base)

    run(scenario())


def test_an_uninitialised_client_says_so() -> None:
    async def scenario() -> None:
        with pytest.raises(NetworkError, match="not initialized"):
            await post(AiohttpRequest(), "http://127.0.0.1:9/bot")

    run(scenario())


# ---------------------------------------------------------------------- TLS
def server_tls() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    return context


def test_https_is_verified_against_trusted_certificates() -> None:
    async def scenario() -> None:
        async with scripted(answer_ok, tls=server_tls()) as (server, base):
            trusting = ssl.create_default_context(cafile=str(TLS / "cert.pem"))
            request = await started(ssl_context=trusting)
            assert await post(request, base) is True
            assert await post(request, base) is True
            assert server.connections == 1
            # The default trust store does not know a self-signed certificate: refused.
            default = await started(connect_timeout=5)
            with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED"):
                await post(default, base)

    run(scenario())


# ---------------------------------------------------------------------- cancellation
def test_a_cancelled_call_always_stops_even_when_its_answer_arrives_at_that_moment() -> None:
    # asyncio.wait_for in 3.11 drops a cancel that meets a finishing call; a stopping bot's
    # poller then polled on forever (31 of 200 cancels lost before this test existed).
    async def quick(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(random.uniform(0, 0.003))
        writer.write(ok())
        return True

    async def scenario() -> None:
        async with scripted(quick) as (_, base):
            request = await started(pool_size=2)

            async def poll_forever() -> None:
                while True:
                    await post(request, base)

            lost = 0
            for _ in range(150):
                task = asyncio.create_task(poll_forever())
                await asyncio.sleep(random.uniform(0, 0.01))
                task.cancel()
                done, _ = await asyncio.wait({task}, timeout=2)
                if not done:
                    lost += 1
                    task.cancel()
                    await asyncio.wait({task}, timeout=2)
            assert lost == 0

    run(scenario())


# ---------------------------------------------------------------------- limits and the rest
def test_an_answer_over_the_size_cap_is_a_network_error_saying_so() -> None:
    big = b'{"ok":true,"result":"' + b"x" * 5000 + b'"}'
    answers = [ok(big),  # the length says too much at once
               b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
               b"".join(b"400\r\n" + big[i:i + 1024] + b"\r\n" for i in range(0, 4096, 1024))
               + b"0\r\n\r\n"]  # chunks that add up to too much

    async def in_turn(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answers.pop(0))
        return True

    async def scenario() -> None:
        async with scripted(in_turn) as (_, base):
            request = await started(max_body=4000)
            for _ in range(2):
                with pytest.raises(NetworkError, match="larger than") as error:
                    await post(request, base)
                assert TOKEN not in str(error.value)

    run(scenario())


def test_the_proxy_from_the_environment_is_used_with_its_credentials_unless_no_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY",
                 "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def scenario() -> None:
        async with scripted(answer_ok) as (proxy, proxy_base), \
                scripted(answer_ok) as (direct, direct_base):
            proxy_address = proxy_base.split("//")[1].split("/")[0]
            monkeypatch.setenv("HTTP_PROXY", f"http://ops:p%40ss@{proxy_address}")
            through = await started()
            assert await post(through, "http://bot-api.invalid/bot") is True
            line, *headers = proxy.requests[-1].split(b"\r\n\r\n")[0].split(b"\r\n")
            assert line == f"POST http://bot-api.invalid/bot{TOKEN}/deleteWebhook HTTP/1.1"\
                .encode()
            assert b"Proxy-Authorization: Basic b3BzOnBAc3M=" in headers  # ops:p@ss
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            assert await post(await started(), direct_base) is True
            assert len(direct.requests) == 1 and len(proxy.requests) == 1
    # For https (the real Bot API) the credentials go to the proxy's CONNECT, not the request.
    monkeypatch.setenv("HTTPS_PROXY", "http://ops:p%40ss@proxy.invalid:3128")
    assert env_proxy("https://api.telegram.org/bot") == Proxy(
        "http://proxy.invalid:3128", {"Proxy-Authorization": "Basic b3BzOnBAc3M="})

    run(scenario())


def test_shutdown_closes_the_session_without_unclosed_warnings(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with scripted(answer_ok) as (_, base), \
                scripted(answer_ok, tls=server_tls()) as (_, tls_base):
            request = AiohttpRequest(ssl_context=ssl.create_default_context(
                cafile=str(TLS / "cert.pem")))
            await request.initialize()
            assert await post(request, base) is True
            assert await post(request, tls_base) is True
            await request.shutdown()
            await request.shutdown()  # twice is harmless, as PTB may do

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(scenario())
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert "Unclosed" not in caplog.text


def test_make_request_bounds_the_pool_and_says_when_all_proxy_is_not_used(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", "socks5://proxy.invalid:1080")
    request = make_request(4, 5, 5, 5, 5)
    assert isinstance(request, AiohttpRequest) and request.read_timeout == 5
    assert "set HTTPS_PROXY" in caplog.text


def test_an_upload_over_a_mebibyte_goes_through_whole_and_warns_of_nothing(
        bot_api: FakeBotAPI) -> None:
    bot_api.send_text(USER, "hello")
    export = bytes(range(256)) * 5000  # 1.2 MiB, like a long export

    async def scenario() -> None:
        bot = Bot(bot_api.token, base_url=bot_api.base_url, request=AiohttpRequest(),
                  get_updates_request=AiohttpRequest())
        async with bot:
            await bot.send_document(USER, export, filename="export.xlsx")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(scenario())
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    (sent,) = bot_api.documents(USER)
    assert sent["content"] == export
