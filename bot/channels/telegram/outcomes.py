"""Sorts what a Bot API call raised into one outcome: the only place that reads Telegram errors.

Replies (sender.py), broadcast copies (broadcaster.py), progress messages (progress.py) and
menus (menus.py) each decide what to do about an outcome; none of them looks at an error's
class or text itself.
"""

from __future__ import annotations

import datetime as dtm
import enum
import warnings
from dataclasses import dataclass

from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning


class Kind(enum.Enum):
    """How a Bot API call ended, as far as what to do next goes."""

    SENT = "sent"
    # 400s saying things are already as we want them, or too late to matter.
    NOT_MODIFIED = "not modified"  # an edit to the text the message already has
    TOO_LATE = "too late"  # a button's query expired (e.g. across a restart)
    GONE = "gone"  # the message to edit was deleted or can no longer be edited
    RETRY_AFTER = "retry after"  # 429: flood control, come back after `retry_after` seconds
    TRANSIENT = "transient"  # 5xx, timeouts, connection errors: back off and try again
    BLOCKED = "blocked"  # 403: the user blocked the bot, or it was removed from the group
    BOT_REFUSED = "bot refused"  # the token or the API address is wrong: not the chat's fault
    FAILED = "failed"  # any other refusal (400 chat not found, ...): give up, with the reason


# The one substring list: Telegram's 400 descriptions (lower-cased) that are not failures.
BAD_REQUEST_KINDS: tuple[tuple[str, Kind], ...] = (
    ("not modified", Kind.NOT_MODIFIED),
    ("query is too old", Kind.TOO_LATE),
    ("query id is invalid", Kind.TOO_LATE),
    ("message to edit not found", Kind.GONE),
    ("message can't be edited", Kind.GONE),
    ("message_id_invalid", Kind.GONE),
)
# Outcomes that leave nothing to do when all that was at stake is how a message looks.
HARMLESS = frozenset({Kind.SENT, Kind.NOT_MODIFIED, Kind.TOO_LATE, Kind.GONE})


@dataclass(frozen=True)
class Outcome:
    """One call's outcome: its kind, Telegram's reason, and for a 429 the seconds to wait."""

    kind: Kind
    reason: str = ""
    retry_after: float = 0.0


SENT = Outcome(Kind.SENT)


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds."""
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute will become a timedelta; we accept both.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = error.retry_after
    if isinstance(retry_after, dtm.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


def outcome_of(error: TelegramError) -> Outcome:
    """The outcome a Bot API error stands for."""
    reason = error.message
    if isinstance(error, RetryAfter):
        return Outcome(Kind.RETRY_AFTER, reason, retry_seconds(error))
    if isinstance(error, Forbidden):
        return Outcome(Kind.BLOCKED, reason)
    if isinstance(error, (InvalidToken, EndPointNotFound)):
        return Outcome(Kind.BOT_REFUSED, reason)
    if isinstance(error, BadRequest):  # before NetworkError: PTB derives it from NetworkError
        lowered = reason.lower()
        for text, kind in BAD_REQUEST_KINDS:
            if text in lowered:
                return Outcome(kind, reason)
        return Outcome(Kind.FAILED, reason)
    if isinstance(error, NetworkError):  # TimedOut included
        return Outcome(Kind.TRANSIENT, reason)
    return Outcome(Kind.FAILED, reason)
