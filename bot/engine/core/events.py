"""Values that cross the engine boundary: who sent what, and what the bot answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# Telegram's limit is 64 bytes (DESIGN.md §4 rule 8); PTB does not check it, we do.
MAX_CHOICE_ID_BYTES = 64
# Lone UTF-16 surrogates: a console reading bytes that are not UTF-8 (surrogateescape) or JSON
# with a half "\ud83d" escape produces them, and they cannot be encoded to store or send.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class UserKey:
    """Identifies a user across channels: ('telegram', '12345') or ('console', 'alice')."""

    channel: str
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"


@dataclass(frozen=True)
class Event:
    """One thing a user did: typed text (commands too), tapped a button, or sent media."""

    user: UserKey
    text: str = ""
    choice: str | None = None
    update_id: int | None = None
    unsupported: str | None = None
    locale: str | None = None
    # False in a group or channel: nothing personal or privileged is said there.
    private: bool = True


def without_surrogates(event: Event) -> Event:
    """The event with every lone surrogate in its strings replaced by U+FFFD."""
    def clean(value: str | None) -> str | None:
        return None if value is None else _SURROGATE.sub("\ufffd", value)

    strings = (event.text, event.choice, event.unsupported, event.locale)
    if not any(value and _SURROGATE.search(value) for value in strings):
        return event
    return replace(event, text=_SURROGATE.sub("\ufffd", event.text), choice=clean(event.choice),
                   unsupported=clean(event.unsupported), locale=clean(event.locale))


# A button with this id opens the user's private chat with the bot (a link, not a callback).
PRIVATE_CHAT = "@private"


@dataclass(frozen=True)
class Choice:
    """A button: `id` comes back as Event.choice when tapped."""

    id: str
    label: str

    def __post_init__(self) -> None:
        size = len(self.id.encode("utf-8"))
        if size > MAX_CHOICE_ID_BYTES or not self.id.isascii():
            raise ValueError(
                f"choice id {self.id!r} is {size} bytes; Telegram allows {MAX_CHOICE_ID_BYTES} "
                "bytes of ASCII in callback_data. Use a short code such as 't12:3'."
            )


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply: a chart image or a data document."""

    filename: str
    data: bytes
    mime: str
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    """One message from the bot."""

    text: str
    choices: tuple[Choice, ...] = ()
    image: Attachment | None = None
    document: Attachment | None = None


@dataclass(frozen=True)
class Response:
    """Everything the bot does for one event."""

    replies: tuple[Reply, ...] = ()
    # The label of the button the user chose, so a channel can mark the question as answered.
    chosen: str | None = None
    duplicate: bool = False
    # The choice was stale or forged; channels answer the button press without a state change.
    stale_choice: bool = False
