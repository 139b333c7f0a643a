"""Translates Telegram updates (plain JSON) into engine Events, and Replies into Bot API parts."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.core.events import MAX_CHOICE_ID_BYTES, Attachment, Choice, Event, Reply, UserKey
from bot.engine.ports.inbox import InboxItem

CHANNEL = "telegram"
# Telegram allows 4,096 characters of text and 1,024 of caption. We measure the escaped HTML in
# UTF-16 code units (what the API counts), which is never less, and keep a margin below both.
TEXT_LIMIT = 4000
CAPTION_LIMIT = 1000
# One button per row reads best on a phone; longer lists go two to a row to stay on screen.
ONE_PER_ROW = 5
CHOSEN_MARK = "✓"
# Message fields that mean "the user sent something other than text".
MEDIA = ("sticker", "photo", "voice", "video", "video_note", "audio", "document", "animation",
         "location", "venue", "contact", "poll", "dice", "game", "story", "paid_media",
         "invoice")
_ADDRESSED = re.compile(r"^/([A-Za-z0-9_]{1,32})@([A-Za-z0-9_]{1,64})(.*)$", re.DOTALL)
_SEPARATORS = ("\n\n", "\n", " ")


@dataclass(frozen=True)
class Incoming:
    """What one update means here: an Event for the engine (or why not), and where it came from."""

    chat: str
    event: Event | None = None
    callback_id: str | None = None
    # The message whose button was tapped, so it can be edited to show the answer.
    message_id: int | None = None
    message_text: str | None = None
    ignored: str = ""


@dataclass(frozen=True)
class Part:
    """One Bot API call delivering all or part of a Reply; `text` is ready-escaped HTML."""

    method: str
    text: str
    keyboard: tuple[tuple[Choice, ...], ...] = ()
    file: Attachment | None = None


# ---------------------------------------------------------------------- updates in
def _payload(update: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The update's kind ('message', 'callback_query', ...) and its object."""
    for kind, value in update.items():
        if kind != "update_id" and isinstance(value, dict):
            return kind, value
    return "unknown", {}


def _object(value: Any) -> dict[str, Any]:
    """A JSON object, or {} for anything else (updates come from outside; trust no shape)."""
    return value if isinstance(value, dict) else {}


def address(update: Mapping[str, Any]) -> tuple[str, str | None]:
    """The chat an update belongs to (its ordering key) and the user key of who sent it."""
    _, payload = _payload(update)
    sender = _object(payload.get("from") or payload.get("user"))
    chat = _object(payload.get("chat") or _object(payload.get("message")).get("chat"))
    chat_id = chat.get("id", sender.get("id", ""))
    user_id = sender.get("id")
    return str(chat_id), (str(UserKey(CHANNEL, str(user_id))) if user_id is not None else None)


def inbox_items(updates: Iterable[Mapping[str, Any]]) -> list[InboxItem]:
    """Updates as the inbox keeps them: id, chat (the ordering key), sender and raw JSON."""
    items = []
    for update in updates:
        chat, user_key = address(update)
        items.append(InboxItem(int(update["update_id"]), chat, user_key, dict(update)))
    return items


def read_update(update: Mapping[str, Any], bot_username: str) -> Incoming:
    """The Event an update carries for the engine, or an Incoming saying why it is ignored."""
    kind, payload = _payload(update)
    chat, _ = address(update)
    update_id = int(update["update_id"])
    if kind == "callback_query":
        return _read_callback(payload, chat, update_id)
    if kind != "message":
        # Edited messages, channel posts, member changes...: nothing to answer.
        return Incoming(chat, ignored=kind)
    sender = _object(payload.get("from"))
    if not sender or sender.get("is_bot"):
        return Incoming(chat, ignored="message from a bot")
    user = UserKey(CHANNEL, str(sender["id"]))
    locale = _language(sender)
    text = payload.get("text")
    private = _object(payload.get("chat")).get("type", "private") == "private"
    if isinstance(text, str):
        command = _addressed_command(text, bot_username)
        if command is not None:
            text = command
        elif not private:
            # In a group we answer only commands addressed to us, never the conversation.
            return Incoming(chat, ignored="group message not addressed to the bot")
        return Incoming(chat, Event(user, text=text, update_id=update_id, locale=locale,
                                    private=private))
    media = next((m for m in MEDIA if m in payload), None)
    if media is None or not private:
        return Incoming(chat, ignored="service message" if media is None else f"group {media}")
    return Incoming(chat, Event(user, update_id=update_id, unsupported=media, locale=locale))


def _language(sender: dict[str, Any]) -> str | None:
    """The sender's language code, if it is text (a number there failed every turn)."""
    code = sender.get("language_code")
    return code if isinstance(code, str) else None


def _addressed_command(text: str, bot_username: str) -> str | None:
    """'/cmd@our_bot rest' as '/cmd rest'; None if the text is not a command addressed to us."""
    match = _ADDRESSED.match(text)
    if match is None or match.group(2).lower() != bot_username.lower():
        return None
    return f"/{match.group(1)}{match.group(3)}"


def _read_callback(query: dict[str, Any], chat: str, update_id: int) -> Incoming:
    sender = _object(query.get("from"))
    message = _object(query.get("message"))
    data = query.get("data")
    query_id = str(query.get("id", ""))
    if data is None or not sender:
        return Incoming(chat, callback_id=query_id, ignored="callback query without data")
    if not isinstance(data, str) or not data.isascii() or len(data) > MAX_CHOICE_ID_BYTES:
        # Telegram never sends such data for our buttons: it is forged. An empty choice is
        # answered by the engine as a stale button, with no state change.
        data = ""
    # A message older than 48 hours comes back "inaccessible" (date 0) and cannot be edited.
    accessible = bool(message.get("date"))
    # An inaccessible message has no chat type: only the user's own chat id makes it private.
    chat_type = _object(message.get("chat")).get("type")
    private = chat_type == "private" if chat_type else chat == str(sender["id"])
    event = Event(UserKey(CHANNEL, str(sender["id"])), choice=data, update_id=update_id,
                  locale=_language(sender), private=private)
    return Incoming(chat, event, callback_id=query_id,
                    message_id=message.get("message_id") if accessible else None,
                    message_text=str(message.get("text")) if accessible and message.get("text")
                    else None)


# ---------------------------------------------------------------------- replies out
def escape(text: str) -> str:
    """Text made safe for parse_mode=HTML (the engine's texts and users' notes are plain)."""
    return html.escape(text, quote=False)


def html_size(text: str) -> int:
    """How much of Telegram's limit the plain `text` uses once escaped (UTF-16 code units)."""
    return len(escape(text).encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Plain text cut to fit `limit` once escaped: at paragraphs, else lines, else spaces."""
    if html_size(text) <= limit:
        return [text] if text.strip() else []
    sep = next((s for s in _SEPARATORS if s in text), None)
    if sep is None:
        return _hard_cut(text, limit)
    chunks: list[str] = []
    current = ""
    for piece in text.split(sep):
        candidate = f"{current}{sep}{piece}" if current else piece
        if html_size(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            chunks.append(current)
        pieces = split_text(piece, limit)
        chunks.extend(pieces[:-1])
        current = pieces[-1] if pieces else ""
    if current.strip():
        chunks.append(current)
    return chunks


def _hard_cut(text: str, limit: int) -> list[str]:
    """A word longer than a whole message, cut by characters."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        char_size = html_size(char)
        if size + char_size > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += char_size
    if current:
        chunks.append("".join(current))
    return chunks


def keyboard_rows(choices: tuple[Choice, ...]) -> tuple[tuple[Choice, ...], ...]:
    """Buttons laid out for a phone; each id is checked against Telegram's callback_data rule."""
    for choice in choices:
        size = len(choice.id.encode("utf-8"))
        if not choice.id.isascii() or not 0 < size <= MAX_CHOICE_ID_BYTES:
            raise ValueError(f"button {choice.label!r} has callback data {choice.id!r} "
                             f"({size} bytes); Telegram needs 1-{MAX_CHOICE_ID_BYTES} bytes of "
                             "ASCII. Use a short code such as 't12:3'.")
    width = 1 if len(choices) <= ONE_PER_ROW else 2
    return tuple(choices[i:i + width] for i in range(0, len(choices), width))


def render(reply: Reply) -> tuple[Part, ...]:
    """The Bot API calls that deliver a reply, in order; the keyboard rides on the last text."""
    rows = keyboard_rows(reply.choices)
    files = [(m, a) for m, a in (("sendPhoto", reply.image), ("sendDocument", reply.document))
             if a is not None]
    if len(files) == 1 and not rows:
        # A file with a few words goes as one message: the words become its caption.
        method, attachment = files[0]
        words = "\n\n".join(dict.fromkeys(t for t in (reply.text, attachment.caption) if t))
        if html_size(words) <= CAPTION_LIMIT:
            return (Part(method, escape(words), file=attachment),)
    texts = split_text(reply.text)
    if rows and not texts:
        texts = ["…"]  # buttons need a message to sit on
    parts = [Part("sendMessage", escape(chunk), rows if i == len(texts) - 1 else ())
             for i, chunk in enumerate(texts)]
    for method, attachment in files:
        caption = attachment.caption
        if html_size(caption) > CAPTION_LIMIT:
            # Too long to caption a file: say it first, as ordinary messages.
            parts.extend(Part("sendMessage", escape(c)) for c in split_text(caption))
            caption = ""
        parts.append(Part(method, escape(caption), file=attachment))
    return tuple(parts)


def answered(question: str, chosen: str) -> str:
    """The question message as HTML, marked with the answer the user tapped."""
    mark = f"\n\n{CHOSEN_MARK} {chosen}"
    room = TEXT_LIMIT - html_size(mark)
    if html_size(question) > room:
        question = _hard_cut(question, room - 1)[0] + "…"
    return escape(question + mark)
