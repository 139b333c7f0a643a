"""An in-process, threaded fake of the Telegram Bot API HTTP server for PTB tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import email.message
import email.policy
import itertools
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

JSON = dict[str, Any]
ChatKey = int | str

DEFAULT_TOKEN = "123456:TEST-token"

BOT_USER: JSON = {
    "id": 999,
    "is_bot": True,
    "first_name": "CCBot",
    "username": "ccbot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Telegram's own wording, so bot code that matches on descriptions behaves as in production.
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a content and reply markup of the current message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
MAX_TEXT_LENGTH = 4096

FAULT_KINDS = frozenset(
    {"429", "500", "502", "timeout", "403", "400-not-modified", "400-query-too-old"}
)

# PTB sends str values verbatim and JSON-dumps everything else (RequestParameter.json_value),
# so free-text fields must not be JSON-decoded: a text of "123" or "true" has to stay a str.
_RAW_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "action",
        "language_code",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "ip_address",
        "file_id",
        "document",
        "photo",
        "emoji",
        "title",
        "description",
        "short_description",
        "name",
    }
)

_BOT_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?(?=\s|$)")

_BOT_PATH_RE = re.compile(r"^/bot([^/]+)/([^/]+)/?$")
_FILE_PATH_RE = re.compile(r"^/file/bot([^/]+)/(.+)$")


@dataclass(frozen=True)
class Upload:
    """A file part received in a multipart/form-data request."""

    filename: str
    content: bytes
    mime_type: str

    def as_dict(self) -> JSON:
        """Return the upload as a plain dict for the call record."""
        return {"filename": self.filename, "content": self.content, "mime_type": self.mime_type}


@dataclass
class _Fault:
    method: str
    kind: str
    remaining: int
    chat_id: ChatKey | None
    retry_after: int


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str


class ApiError(Exception):
    """An error answer of the fake API, turned into an {"ok": false, ...} response."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        """Return the Bot API error body for this error."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _chat_key(value: object) -> ChatKey | None:
    """Normalise a chat_id given as int, numeric string or @username."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


def _utf16_len(text: str) -> int:
    # Telegram entity offsets and lengths count UTF-16 code units, not code points.
    return len(text.encode("utf-16-le")) // 2


def _decode_value(name: str, raw: str) -> Any:
    if name in _RAW_STRING_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _header_params(header_value: str) -> email.message.Message:
    # email.message handles quoting and RFC 2231 parameters, unlike a naive split on ";".
    msg = email.message.Message(policy=email.policy.HTTP)
    msg["Content-Type"] = header_value
    return msg


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Upload]]:
    """Split a multipart/form-data body into text fields and file uploads."""
    boundary = _header_params(content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ApiError(400, "Bad Request: multipart boundary is missing")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    # A hand-rolled split keeps binary payloads byte-exact, which the email parser does not promise.
    for chunk in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, content = chunk.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get_param("name", header="content-type")
        filename = disposition.get_param("filename", header="content-type")
        if not isinstance(name, str):
            continue
        if isinstance(filename, str):
            mime = headers.get("content-type", "application/octet-stream")
            # httpx escapes '"' in filenames HTML5-style, as browsers do.
            filename = filename.replace("%22", '"')
            files[name] = Upload(filename=filename, content=content, mime_type=mime)
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Many bots long-poll and send concurrently; the default backlog of 5 drops connections.
    request_queue_size = 256

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Shut down every open client socket so keep-alive threads exit immediately."""
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # Without this every reply waits ~40 ms for delayed ACKs: the fake would look slow.
    disable_nagle_algorithm = True
    # HTTP/1.1 keep-alive matters for benchmarks: httpx reuses pooled connections.
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        # Per-request stderr logging would swamp test output and slow benchmarks.
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        fake = cast(_Server, self.server).fake
        try:
            body = self._read_body()
            split = urllib.parse.urlsplit(self.path)
            # httpx percent-encodes the ":" in the token for file downloads.
            path = urllib.parse.unquote(split.path)
            file_match = _FILE_PATH_RE.match(path)
            if file_match and self.command == "GET":
                status, ctype, data = fake._serve_file(file_match.group(1), file_match.group(2))
                self._send(status, data, ctype)
                return
            bot_match = _BOT_PATH_RE.match(path)
            if not bot_match:
                err = ApiError(404, "Not Found")
                self._send(404, json.dumps(err.payload()).encode())
                return
            params, files = self._params(split.query, body)
            status, payload = fake._dispatch(bot_match.group(1), bot_match.group(2), params, files)
            self._send(status, json.dumps(payload).encode())
        except OSError:
            # The client gave up (PTB's read timeout fired) or stop() cut the socket.
            self.close_connection = True
        except ApiError as err:
            self._send_quietly(err)
        except Exception as exc:
            fake._note_error(f"{self.command} {self.path}: {exc!r}")
            self._send_quietly(ApiError(500, f"Internal Server Error: {exc!r}"))

    def _send_quietly(self, err: ApiError) -> None:
        try:
            self._send(err.code, json.dumps(err.payload()).encode())
        except OSError:
            self.close_connection = True

    def _params(self, query: str, body: bytes) -> tuple[JSON, dict[str, Upload]]:
        raw: dict[str, str] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        files: dict[str, Upload] = {}
        ctype = self.headers.get("Content-Type", "")
        mime = _header_params(ctype).get_content_type() if ctype else ""
        if mime == "multipart/form-data":
            fields, files = _parse_multipart(body, ctype)
            raw.update(fields)
        elif mime == "application/json":
            decoded = json.loads(body or b"{}")
            params = {k: _decode_value(k, v) for k, v in raw.items()}
            params.update(decoded)
            return params, files
        elif body:
            raw.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return {k: _decode_value(k, v) for k, v in raw.items()}, files

    def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


class FakeBotAPI:
    """Threaded fake Telegram Bot API that records what the bot does and scripts what users do."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        latency: float = 0.0,
        timeout_delay: float = 30.0,
    ) -> None:
        self._token = token
        self.latency = latency
        self.timeout_delay = timeout_delay
        # One re-entrant lock guards all state; the condition wakes long-polls on new updates.
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop_event = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        self._update_ids = itertools.count(1)
        self._queue: list[JSON] = []
        self._sent_updates: list[JSON] = []
        self._acknowledged_offset = 0
        self._calls: list[tuple[str, JSON, float]] = []
        self._messages: dict[ChatKey, list[JSON]] = {}
        self._message_index: dict[tuple[ChatKey, int], JSON] = {}
        self._next_message_id: dict[ChatKey, int] = {}
        self._chats: dict[ChatKey, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._callback_ids = itertools.count(1)
        self._issued_callbacks: set[str] = set()
        self._callback_answers: list[JSON] = []
        self._commands: dict[str, list[JSON]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._faults: list[_Fault] = []
        self._blocked: set[ChatKey] = set()
        self._webhook_url = ""
        self._server_errors: list[str] = []

        self._handlers: dict[str, Callable[[JSON, dict[str, Upload]], Any]] = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendDocument": self._m_send_document,
            "sendPhoto": self._m_send_photo,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "deleteWebhook": self._m_delete_webhook,
            "setWebhook": self._m_set_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "close": self._m_true,
            "logOut": self._m_true,
            "sendChatAction": self._m_send_chat_action,
            "getFile": self._m_get_file,
        }
        # Telegram matches method names case-insensitively.
        self._by_lower = {name.lower(): name for name in self._handlers}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        """Bind a random free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotAPI:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake all waiting requests, close connections and stop the server thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotAPI:
        """Start the server for the duration of a ``with`` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server when the ``with`` block ends."""
        self.stop()

    # ------------------------------------------------------------------ connection info

    @property
    def token(self) -> str:
        """The only bot token this server accepts."""
        return self._token

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url``; PTB appends the token and ``/method``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ scripted users

    def _user_json(
        self, user_id: int, first_name: str | None = None, language_code: str | None = None
    ) -> JSON:
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                user = {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": "User",
                    "username": f"user{user_id}",
                    "language_code": "en",
                }
                self._users[user_id] = user
            if first_name is not None:
                user["first_name"] = first_name
            if language_code is not None:
                user["language_code"] = language_code
            return dict(user)

    def _register_chat(self, chat_id: ChatKey, chat_type: str, user: JSON) -> JSON:
        with self._lock:
            if chat_type == "private":
                chat: JSON = {
                    "id": chat_id,
                    "type": "private",
                    "first_name": user["first_name"],
                    "username": user["username"],
                }
            else:
                chat = {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}
            self._chats[chat_id] = chat
            return dict(chat)

    def _chat_json(self, chat_id: ChatKey) -> JSON:
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                # Positive ids are users, negative ones groups, as on real Telegram.
                if isinstance(chat_id, int) and chat_id > 0:
                    chat = {"id": chat_id, "type": "private", "first_name": "User"}
                else:
                    chat = {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}
                self._chats[chat_id] = chat
            return dict(chat)

    def _alloc_message_id(self, chat_id: ChatKey) -> int:
        # User and bot messages share one id sequence per chat, as on Telegram.
        with self._lock:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
            return message_id

    def _new_file(self, content: bytes, folder: str, suffix: str) -> _StoredFile:
        with self._lock:
            n = next(self._file_ids)
            stored = _StoredFile(
                file_id=f"fake-file-{n}",
                file_unique_id=f"fake-unique-{n}",
                content=content,
                file_path=f"{folder}/file_{n}{suffix}",
            )
            self._files[stored.file_id] = stored
            return stored

    def _user_message(
        self,
        user_id: int,
        chat_id: ChatKey | None,
        chat_type: str,
        first_name: str | None,
        language_code: str | None,
        fields: JSON,
        update_type: str = "message",
    ) -> int:
        with self._lock:
            user = self._user_json(user_id, first_name, language_code)
            key = user_id if chat_id is None else chat_id
            chat = self._register_chat(key, chat_type, user)
            message: JSON = {
                "message_id": self._alloc_message_id(key),
                "from": user,
                "chat": chat,
                "date": int(time.time()),
            }
            message.update(fields)
            return self._enqueue({update_type: message})

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: ChatKey | None = None,
        chat_type: str = "private",
        first_name: str = "User",
        language_code: str = "en",
    ) -> int:
        """Enqueue a text ``message`` update from a user; returns its update_id."""
        fields: JSON = {"text": text}
        match = _BOT_COMMAND_RE.match(text)
        if match:
            # PTB's CommandHandler/filters.COMMAND rely on this entity, not on the leading "/".
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}
            ]
        return self._user_message(user_id, chat_id, chat_type, first_name, language_code, fields)

    def send_edited_text(
        self, user_id: int, message_id: int, text: str, chat_id: ChatKey | None = None
    ) -> int:
        """Enqueue an ``edited_message`` update for a user's earlier message; returns update_id."""
        with self._lock:
            user = self._user_json(user_id)
            key = user_id if chat_id is None else chat_id
            chat = self._chat_json(key)
            now = int(time.time())
            message: JSON = {
                "message_id": message_id,
                "from": user,
                "chat": chat,
                "date": now,
                "edit_date": now,
                "text": text,
            }
            match = _BOT_COMMAND_RE.match(text)
            if match:
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}
                ]
            return self._enqueue({"edited_message": message})

    def send_sticker(
        self, user_id: int, chat_id: ChatKey | None = None, chat_type: str = "private"
    ) -> int:
        """Enqueue a sticker message from a user; returns its update_id."""
        stored = self._new_file(b"RIFF-fake-webp", "stickers", ".webp")
        sticker: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{THUMBS UP SIGN}",
            "file_size": len(stored.content),
        }
        return self._user_message(user_id, chat_id, chat_type, None, None, {"sticker": sticker})

    def send_photo(
        self,
        user_id: int,
        chat_id: ChatKey | None = None,
        chat_type: str = "private",
        caption: str | None = None,
        content: bytes = b"\x89PNG\r\n\x1a\nfake-photo",
    ) -> int:
        """Enqueue a photo message from a user; returns its update_id."""
        stored = self._new_file(content, "photos", ".jpg")
        fields: JSON = {
            "photo": [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": 90,
                    "height": 90,
                    "file_size": len(content),
                }
            ]
        }
        if caption is not None:
            fields["caption"] = caption
        return self._user_message(user_id, chat_id, chat_type, None, None, fields)

    def send_location(
        self,
        user_id: int,
        chat_id: ChatKey | None = None,
        chat_type: str = "private",
        latitude: float = 52.52,
        longitude: float = 13.405,
    ) -> int:
        """Enqueue a location message from a user; returns its update_id."""
        fields: JSON = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._user_message(user_id, chat_id, chat_type, None, None, fields)

    def send_voice(
        self,
        user_id: int,
        chat_id: ChatKey | None = None,
        chat_type: str = "private",
        content: bytes = b"OggS-fake-voice",
        duration: int = 1,
    ) -> int:
        """Enqueue a voice message from a user; returns its update_id."""
        stored = self._new_file(content, "voice", ".oga")
        voice: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(content),
        }
        return self._user_message(user_id, chat_id, chat_type, None, None, {"voice": voice})

    def send_document(
        self,
        user_id: int,
        chat_id: ChatKey | None = None,
        chat_type: str = "private",
        content: bytes = b"hello from a user\n",
        filename: str = "notes.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> int:
        """Enqueue a document message from a user; returns its update_id."""
        stored = self._new_file(content, "documents", "")
        fields: JSON = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": len(content),
            }
        }
        if caption is not None:
            fields["caption"] = caption
        return self._user_message(user_id, chat_id, chat_type, None, None, fields)

    def press_button(
        self, user_id: int, message_id: int, data: str, chat_id: ChatKey | None = None
    ) -> int:
        """Enqueue a ``callback_query`` for a stored bot message; returns its update_id."""
        with self._lock:
            key = user_id if chat_id is None else chat_id
            record = self._message_index.get((key, message_id))
            if record is None:
                # Fail loudly: pressing a button on a message the bot never sent is a test bug.
                raise KeyError(f"no bot message {message_id} in chat {key}")
            query_id = str(next(self._callback_ids))
            self._issued_callbacks.add(query_id)
            query: JSON = {
                "id": query_id,
                "from": self._user_json(user_id),
                "message": self._render(record),
                "chat_instance": f"ci{key}",
                "data": data,
            }
            return self._enqueue({"callback_query": query})

    def send_raw_update(self, update: JSON) -> int:
        """Enqueue an arbitrary update dict (update_id assigned if missing); returns update_id."""
        with self._lock:
            update = copy.deepcopy(update)
            if "update_id" in update:
                given = int(update["update_id"])
                # Keep later auto-assigned ids increasing past an explicit one.
                current = next(self._update_ids)
                self._update_ids = itertools.count(max(current, given + 1))
            return self._enqueue(update)

    def _enqueue(self, update: JSON) -> int:
        with self._cond:
            if "update_id" not in update:
                update = {"update_id": next(self._update_ids), **update}
            self._queue.append(update)
            self._queue.sort(key=lambda u: int(u["update_id"]))
            self._sent_updates.append(copy.deepcopy(update))
            self._cond.notify_all()
            return int(update["update_id"])

    # ------------------------------------------------------------------ records

    @property
    def calls(self) -> list[tuple[str, JSON, float]]:
        """Every authorised request as (method, params, time.monotonic()), in arrival order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[JSON]:
        """Params of every call to ``method``, in arrival order."""
        with self._lock:
            return [params for name, params, _ in self._calls if name == method]

    @property
    def sent_updates(self) -> list[JSON]:
        """Copies of every update enqueued so far, including acknowledged ones."""
        with self._lock:
            return copy.deepcopy(self._sent_updates)

    def messages(self, chat_id: ChatKey) -> list[JSON]:
        """Bot messages delivered to ``chat_id`` (text, documents, photos) in delivery order."""
        with self._lock:
            key = _chat_key(chat_id)
            return copy.deepcopy(self._messages.get(chat_id if key is None else key, []))

    def texts(self, chat_id: ChatKey) -> list[str]:
        """Current texts of the bot's text messages in ``chat_id``, in delivery order."""
        return [m["text"] for m in self.messages(chat_id) if m["text"] is not None]

    def last_message(self, chat_id: ChatKey) -> JSON | None:
        """The most recent bot message in ``chat_id``, or None."""
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    def documents(self, chat_id: ChatKey) -> list[JSON]:
        """Bot sendDocument messages in ``chat_id`` with filename, content and mime_type."""
        return [m for m in self.messages(chat_id) if m["method"] == "sendDocument"]

    def photos(self, chat_id: ChatKey) -> list[JSON]:
        """Bot sendPhoto messages in ``chat_id`` with filename, content and mime_type."""
        return [m for m in self.messages(chat_id) if m["method"] == "sendPhoto"]

    @property
    def callback_answers(self) -> list[JSON]:
        """Every successful answerCallbackQuery params dict, in order."""
        with self._lock:
            return copy.deepcopy(self._callback_answers)

    @property
    def commands(self) -> dict[str, list[JSON]]:
        """setMyCommands lists keyed by canonical scope JSON (language_code merged in if set)."""
        with self._lock:
            return copy.deepcopy(self._commands)

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON] | None:
        """The command list set for ``scope`` (default scope if None), or None."""
        with self._lock:
            found = self._commands.get(self._scope_key(scope, language_code))
            return copy.deepcopy(found) if found is not None else None

    @property
    def webhook_url(self) -> str:
        """The URL from the last setWebhook, or "" when none is set."""
        with self._lock:
            return self._webhook_url

    @property
    def server_errors(self) -> list[str]:
        """Internal errors of the fake itself (a test should expect this to stay empty)."""
        with self._lock:
            return list(self._server_errors)

    @staticmethod
    def buttons(message: JSON | None) -> list[tuple[str, str | None]]:
        """Flatten a recorded message's keyboard into (text, callback_data) pairs."""
        if not message:
            return []
        markup = message.get("reply_markup") or {}
        pairs: list[tuple[str, str | None]] = []
        for row in markup.get("inline_keyboard", []):
            for button in row:
                pairs.append((str(button.get("text", "")), button.get("callback_data")))
        for row in markup.get("keyboard", []):
            for button in row:
                text = button if isinstance(button, str) else button.get("text", "")
                pairs.append((str(text), None))
        return pairs

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Poll ``predicate`` until it is true or ``timeout`` seconds pass; returns the outcome."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    async def wait_for_async(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Like wait_for, but yields to the event loop so an in-loop PTB app keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)

    def pending_updates(self) -> int:
        """Number of enqueued updates not yet acknowledged by a getUpdates offset."""
        with self._lock:
            return len(self._queue)

    @property
    def acknowledged_offset(self) -> int:
        """Highest offset the bot has acknowledged via getUpdates (0 if none)."""
        with self._lock:
            return self._acknowledged_offset

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        kind: str,
        count: int = 1,
        chat_id: ChatKey | None = None,
        retry_after: int = 1,
    ) -> None:
        """Fail the next ``count`` calls of ``method`` ("*" = all but getUpdates) with ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._faults.append(
                _Fault(
                    method=method.lower(),
                    kind=kind,
                    remaining=count,
                    chat_id=_chat_key(chat_id),
                    retry_after=retry_after,
                )
            )

    def clear_faults(self) -> None:
        """Drop all pending injected faults."""
        with self._lock:
            self._faults.clear()

    def block(self, user_id: ChatKey) -> None:
        """Answer every later request aimed at this chat with 403 "bot was blocked"."""
        with self._lock:
            key = _chat_key(user_id)
            if key is not None:
                self._blocked.add(key)

    def unblock(self, user_id: ChatKey) -> None:
        """Undo block()."""
        with self._lock:
            key = _chat_key(user_id)
            if key is not None:
                self._blocked.discard(key)

    def _take_fault(self, method: str, chat_id: ChatKey | None) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == "*":
                    # A wildcard must not be swallowed by the background polling loop,
                    # otherwise which request fails would depend on timing.
                    if method == "getUpdates":
                        continue
                elif fault.method != method.lower():
                    continue
                if fault.chat_id is not None and fault.chat_id != chat_id:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
            return None

    def _raise_fault(self, fault: _Fault) -> None:
        if fault.kind == "429":
            raise ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        if fault.kind == "500":
            raise ApiError(500, "Internal Server Error")
        if fault.kind == "502":
            raise ApiError(502, "Bad Gateway")
        if fault.kind == "403":
            raise ApiError(403, BLOCKED)
        if fault.kind == "400-not-modified":
            raise ApiError(400, NOT_MODIFIED)
        if fault.kind == "400-query-too-old":
            raise ApiError(400, QUERY_TOO_OLD)
        # "timeout": hold the request longer than the client's read timeout, interruptibly
        # so stop() stays fast; the request is then treated as failed and records nothing.
        self._stop_event.wait(self.timeout_delay)
        raise ApiError(504, "Gateway Timeout")

    # ------------------------------------------------------------------ request dispatch

    def _dispatch(
        self, token: str, method: str, params: JSON, files: dict[str, Upload]
    ) -> tuple[int, JSON]:
        if token != self._token:
            return 401, ApiError(401, "Unauthorized").payload()
        if self.latency > 0:
            self._stop_event.wait(self.latency)
        canonical = self._by_lower.get(method.lower())
        recorded = dict(params)
        for name, upload in files.items():
            recorded[name] = upload.as_dict()
        with self._lock:
            self._calls.append((canonical or method, recorded, time.monotonic()))
        try:
            if canonical is None:
                raise ApiError(404, "Not Found: method not found")
            chat_id = _chat_key(params.get("chat_id"))
            fault = self._take_fault(canonical, chat_id)
            if fault is not None:
                self._raise_fault(fault)
            if chat_id is not None:
                with self._lock:
                    blocked = chat_id in self._blocked
                if blocked:
                    raise ApiError(403, BLOCKED)
            result = self._handlers[canonical](params, files)
        except ApiError as err:
            return err.code, err.payload()
        except Exception as exc:
            # A bug in the fake must surface to the test, not kill the handler thread.
            self._note_error(f"{method}: {exc!r}")
            return 500, ApiError(500, f"Internal Server Error: {exc!r}").payload()
        return 200, {"ok": True, "result": result}

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._server_errors.append(message)

    def _serve_file(self, token: str, file_path: str) -> tuple[int, str, bytes]:
        if token != self._token:
            body = json.dumps(ApiError(401, "Unauthorized").payload()).encode()
            return 401, "application/json", body
        with self._lock:
            for stored in self._files.values():
                if stored.file_path == file_path:
                    return 200, "application/octet-stream", stored.content
        return 404, "application/json", json.dumps(ApiError(404, "Not Found").payload()).encode()

    @staticmethod
    def _require(params: JSON, name: str) -> Any:
        value = params.get(name)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: {name} is empty")
        return value

    def _require_chat(self, params: JSON) -> ChatKey:
        key = _chat_key(self._require(params, "chat_id"))
        if key is None:
            raise ApiError(400, "Bad Request: chat not found")
        return key

    @staticmethod
    def _scope_key(scope: JSON | None, language_code: str) -> str:
        data = dict(scope or {"type": "default"})
        if language_code:
            data["language_code"] = language_code
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def _render(self, record: JSON) -> JSON:
        """Build the Bot API Message JSON for a stored bot message."""
        message: JSON = {
            "message_id": record["message_id"],
            "from": dict(BOT_USER),
            "chat": self._chat_json(record["chat_id"]),
            "date": record["date"],
        }
        if record.get("edit_date"):
            message["edit_date"] = record["edit_date"]
        if record["text"] is not None:
            message["text"] = record["text"]
        if record["caption"] is not None:
            message["caption"] = record["caption"]
        if record["method"] == "sendDocument":
            message["document"] = {
                "file_id": record["file_id"],
                "file_unique_id": record["file_unique_id"],
                "file_name": record["filename"],
                "mime_type": record["mime_type"],
                "file_size": len(record["content"] or b""),
            }
        elif record["method"] == "sendPhoto":
            message["photo"] = [
                {
                    "file_id": record["file_id"],
                    "file_unique_id": record["file_unique_id"],
                    "width": 320,
                    "height": 240,
                    "file_size": len(record["content"] or b""),
                }
            ]
        markup = record["reply_markup"]
        # Telegram only echoes inline keyboards; reply keyboards never appear in a Message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _store_message(self, method: str, chat_id: ChatKey, params: JSON, **extra: Any) -> JSON:
        with self._lock:
            record: JSON = {
                "message_id": self._alloc_message_id(chat_id),
                "chat_id": chat_id,
                "method": method,
                "date": int(time.time()),
                "edit_date": None,
                "text": None,
                "caption": params.get("caption"),
                "parse_mode": params.get("parse_mode"),
                "reply_markup": params.get("reply_markup"),
                "edits": [],
                "filename": None,
                "content": None,
                "mime_type": None,
                "file_id": None,
                "file_unique_id": None,
            }
            record.update(extra)
            self._messages.setdefault(chat_id, []).append(record)
            self._message_index[(chat_id, record["message_id"])] = record
            return self._render(record)

    def _upload_or_reference(
        self, field: str, params: JSON, files: dict[str, Upload], folder: str
    ) -> JSON:
        ref = params.get(field)
        upload = files.get(field)
        if upload is None and isinstance(ref, str) and ref.startswith("attach://"):
            upload = files.get(ref[len("attach://") :])
        if upload is not None:
            stored = self._new_file(upload.content, folder, "")
            return {
                "filename": upload.filename,
                "content": upload.content,
                "mime_type": upload.mime_type,
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
            }
        if not ref:
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        # A file_id or URL re-send: nothing was uploaded, so no bytes to keep.
        with self._lock:
            known = self._files.get(str(ref))
        return {
            "filename": None,
            "content": known.content if known else None,
            "mime_type": None,
            "file_id": str(ref),
            "file_unique_id": known.file_unique_id if known else f"ref-{ref}",
        }

    def _edit_target(self, params: JSON) -> JSON | None:
        if params.get("inline_message_id"):
            return None
        chat_id = self._require_chat(params)
        message_id = int(self._require(params, "message_id"))
        record = self._message_index.get((chat_id, message_id))
        if record is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return record

    # ------------------------------------------------------------------ method handlers

    def _m_true(self, params: JSON, files: dict[str, Upload]) -> bool:
        return True

    def _m_get_me(self, params: JSON, files: dict[str, Upload]) -> JSON:
        return dict(BOT_USER)

    def _m_get_updates(self, params: JSON, files: dict[str, Upload]) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook_url:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if offset > 0:
                # Like Telegram: an offset confirms, and forgets, every update below it.
                self._queue = [u for u in self._queue if int(u["update_id"]) >= offset]
                self._acknowledged_offset = max(self._acknowledged_offset, offset)
            elif offset < 0:
                keep = self._queue[offset:]
                if keep:
                    self._acknowledged_offset = max(
                        self._acknowledged_offset, int(keep[0]["update_id"])
                    )
                self._queue = keep
            while not self._queue and not self._stop_event.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return copy.deepcopy(self._queue[:limit])

    def _m_send_message(self, params: JSON, files: dict[str, Upload]) -> JSON:
        chat_id = self._require_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store_message("sendMessage", chat_id, params, text=text)

    def _m_send_document(self, params: JSON, files: dict[str, Upload]) -> JSON:
        chat_id = self._require_chat(params)
        info = self._upload_or_reference("document", params, files, "documents")
        return self._store_message("sendDocument", chat_id, params, **info)

    def _m_send_photo(self, params: JSON, files: dict[str, Upload]) -> JSON:
        chat_id = self._require_chat(params)
        info = self._upload_or_reference("photo", params, files, "photos")
        return self._store_message("sendPhoto", chat_id, params, **info)

    def _m_edit_message_text(self, params: JSON, files: dict[str, Upload]) -> JSON | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        with self._lock:
            record = self._edit_target(params)
            if record is None:
                return True
            if record["text"] is None:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            # Omitting reply_markup on an edit removes the keyboard, as on Telegram.
            markup = params.get("reply_markup")
            if text == record["text"] and markup == record["reply_markup"]:
                raise ApiError(400, NOT_MODIFIED)
            record["text"] = text
            record["parse_mode"] = params.get("parse_mode")
            record["reply_markup"] = markup
            record["edit_date"] = int(time.time())
            record["edits"].append(
                {
                    "method": "editMessageText",
                    "text": text,
                    "reply_markup": markup,
                    "time": time.monotonic(),
                }
            )
            return self._render(record)

    def _m_edit_message_reply_markup(self, params: JSON, files: dict[str, Upload]) -> JSON | bool:
        with self._lock:
            record = self._edit_target(params)
            if record is None:
                return True
            markup = params.get("reply_markup")
            if markup == record["reply_markup"]:
                raise ApiError(400, NOT_MODIFIED)
            record["reply_markup"] = markup
            record["edit_date"] = int(time.time())
            record["edits"].append(
                {
                    "method": "editMessageReplyMarkup",
                    "text": record["text"],
                    "reply_markup": markup,
                    "time": time.monotonic(),
                }
            )
            return self._render(record)

    def _m_answer_callback_query(self, params: JSON, files: dict[str, Upload]) -> bool:
        query_id = str(self._require(params, "callback_query_id"))
        with self._lock:
            if query_id not in self._issued_callbacks:
                raise ApiError(400, QUERY_TOO_OLD)
            self._callback_answers.append(dict(params))
        return True

    def _m_set_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        key = self._scope_key(params.get("scope"), str(params.get("language_code") or ""))
        with self._lock:
            self._commands[key] = copy.deepcopy(commands)
        return True

    def _m_get_my_commands(self, params: JSON, files: dict[str, Upload]) -> list[JSON]:
        return self.commands_for(params.get("scope"), str(params.get("language_code") or "")) or []

    def _m_delete_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        key = self._scope_key(params.get("scope"), str(params.get("language_code") or ""))
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _m_set_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        with self._lock:
            self._webhook_url = str(params.get("url") or "")
            if params.get("drop_pending_updates"):
                self._drop_pending()
        return True

    def _m_delete_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        with self._lock:
            self._webhook_url = ""
            if params.get("drop_pending_updates"):
                self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        with self._lock:
            if self._queue:
                last = int(self._queue[-1]["update_id"])
                self._acknowledged_offset = max(self._acknowledged_offset, last + 1)
            self._queue = []

    def _m_get_webhook_info(self, params: JSON, files: dict[str, Upload]) -> JSON:
        with self._lock:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._queue),
            }

    def _m_send_chat_action(self, params: JSON, files: dict[str, Upload]) -> bool:
        self._require_chat(params)
        self._require(params, "action")
        return True

    def _m_get_file(self, params: JSON, files: dict[str, Upload]) -> JSON:
        file_id = str(self._require(params, "file_id"))
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }
