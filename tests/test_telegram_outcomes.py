"""Every Telegram error maps to one outcome, from the one table in outcomes.py."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.telegram.outcomes import HARMLESS, Kind, Outcome, outcome_of


@pytest.mark.parametrize(("error", "kind"), [
    (Forbidden("Forbidden: bot was blocked by the user"), Kind.BLOCKED),
    (Forbidden("Forbidden: bot was kicked from the group chat"), Kind.BLOCKED),
    (BadRequest("Chat not found"), Kind.FAILED),
    (BadRequest("Message is too long"), Kind.FAILED),
    (BadRequest("Message is not modified: specified new message content and reply markup "
                "are exactly the same"), Kind.NOT_MODIFIED),
    (BadRequest("Query is too old and response timeout expired or query id is invalid"),
     Kind.TOO_LATE),
    (BadRequest("Message to edit not found"), Kind.GONE),
    (BadRequest("Message can't be edited"), Kind.GONE),
    (BadRequest("MESSAGE_ID_INVALID"), Kind.GONE),
    (TimedOut(), Kind.TRANSIENT),
    (NetworkError("Bad Gateway"), Kind.TRANSIENT),
    (InvalidToken(), Kind.BOT_REFUSED),
    (EndPointNotFound("Not Found"), Kind.BOT_REFUSED),
    (ChatMigrated(-100123), Kind.FAILED),
    (TelegramError("something new"), Kind.FAILED),
])
def test_each_error_maps_to_its_outcome(error: TelegramError, kind: Kind) -> None:
    assert outcome_of(error) == Outcome(kind, error.message)


def test_a_429_carries_the_seconds_to_wait() -> None:
    assert outcome_of(RetryAfter(3)).retry_after == 3.0
    assert outcome_of(RetryAfter(dtm.timedelta(seconds=1.5))).retry_after == 1.5
    assert outcome_of(RetryAfter(3)).kind is Kind.RETRY_AFTER


def test_only_outcomes_about_looks_are_harmless() -> None:
    assert {Kind.SENT, Kind.NOT_MODIFIED, Kind.TOO_LATE, Kind.GONE} == HARMLESS
    assert Kind.FAILED not in HARMLESS and Kind.BLOCKED not in HARMLESS
