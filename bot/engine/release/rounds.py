"""Check-in rounds: when a team's round closes, and the ops that bring its rounds up to now.

A round is open from `opened_at` until it is closed: by itself at `closes_at` (the first
instant, in UTC, of the month `Rules.round_months` after the month it opened in), or early by
a coordinator. Boundaries are UTC instants, so clock changes and members' time zones never
move them. Closing fixes the round's answers: each then-member's latest cycle level per
sub-component answered while a member and within the round (ReleaseBook.round_levels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from bot.engine.core.records import Op
from bot.engine.ports.releases import CloseRound, OpenRound, ReleaseBook, Round, RoundAnswer
from bot.engine.release.rules import Rules

# A team dormant for years gets its missed rounds closed once each, up to this many.
MAX_CATCH_UP = 240


def next_boundary(at: float, months: int) -> float:
    """The first instant (UTC) of the month `months` after the month containing `at`."""
    when = datetime.fromtimestamp(at, timezone.utc)
    index = when.year * 12 + when.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class RoundState:
    """A team's rounds brought up to now: the last closed one, its answers, the open one."""

    last: Round | None
    answers: tuple[RoundAnswer, ...]
    open: Round
    ops: tuple[Op, ...]  # commit these so the store agrees (nothing when it already does)


def _closing(book: ReleaseBook, open_round: Round, at: float, by: str) -> tuple[Round, CloseRound]:
    answers = tuple(book.round_levels(open_round.team_id, open_round.opened_at, at))
    closed = Round(open_round.id, open_round.team_id, open_round.number, open_round.opened_at,
                   open_round.closes_at, at, by)
    return closed, CloseRound(open_round.team_id, open_round.number, at, by, answers)


def settle(book: ReleaseBook, team_id: int, created_at: float, now: float, rules: Rules,
           close_now_by: str | None = None) -> RoundState:
    """Close every round due by `now` (and the open one too when `close_now_by` is given)."""
    rounds = book.rounds(team_id)
    ops: list[Op] = []
    last = next((r for r in reversed(rounds) if r.closed), None)
    answers = tuple(book.round_answers(last.id)) if last is not None else ()
    current = rounds[-1] if rounds and not rounds[-1].closed else None
    if current is None:
        start = last.closed_at if last is not None and last.closed_at is not None else created_at
        number = rounds[-1].number + 1 if rounds else 1
        current = Round(0, team_id, number, start, next_boundary(start, rules.round_months))
        ops.append(OpenRound(team_id, number, current.opened_at, current.closes_at))
    for _ in range(MAX_CATCH_UP):
        due = current.closes_at <= now
        if not due and close_now_by is None:
            break
        at = current.closes_at if due else now
        last, close = _closing(book, current, at, "schedule" if due else str(close_now_by))
        answers = close.answers
        ops.append(close)
        if not due:
            close_now_by = None
        current = Round(0, team_id, current.number + 1, at,
                        next_boundary(max(at, now) if not due else at, rules.round_months))
        ops.append(OpenRound(team_id, current.number, current.opened_at, current.closes_at))
    return RoundState(last, answers, current, tuple(ops))
