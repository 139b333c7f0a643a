"""What /actions and the follow-up say: a commitment's title, its outcome, the Drop buttons."""

from __future__ import annotations

from bot.definitions.model import Content
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import TurnApi
from bot.engine.core.local_time import date_text
from bot.engine.features.practice.titles import action_title
from bot.engine.ports.practice import Commitment

# Telegram shows a keyboard of this many Drop buttons comfortably; older ones are in the list.
MAX_DROP_BUTTONS = 8
OUTCOME_BUTTONS = ("helped", "mixed", "not_yet", "dropped")
# Literal ids, so `ccbot validate` checks each (tests/test_architecture.py).
OUTCOME_WORDS = {"helped": "practice.outcome.helped", "mixed": "practice.outcome.mixed",
                 "not_yet": "practice.outcome.not_yet", "dropped": "practice.outcome.dropped",
                 "open": "practice.outcome.open"}
BUTTON_WORDS = {"helped": "practice.helped", "mixed": "practice.mixed",
                "not_yet": "practice.not_yet", "dropped": "practice.drop"}


def title_of(turn: TurnApi, commitment: Commitment) -> str:
    """The commitment's action title in the user's language."""
    return action_title(turn.content, commitment.question, commitment.level,
                        commitment.persona, turn.locale)


def actions_view(turn: TurnApi, commitments: list[Commitment]) -> tuple[str, tuple[Choice, ...]]:
    """Open commitments, then what the user tried, newest first; a Drop button per open one."""
    if not commitments:
        return turn.t("practice.none"), ()
    open_ones = [c for c in commitments if c.status in ("open", "not_yet") and c.due_at]
    done = [c for c in commitments if c not in open_ones]
    lines = [turn.t("practice.actions_title")]
    if open_ones:
        lines.append(turn.t("practice.open"))
        lines += [f"• {title_of(turn, c)} ({date_text(c.made_at)})" for c in open_ones]
    if done:
        lines.append(turn.t("practice.tried"))
        for c in done:
            outcome = turn.content.text(OUTCOME_WORDS.get(c.status, "practice.outcome.open"),
                                        turn.locale)
            lines.append(f"• {title_of(turn, c)}: {outcome}"
                         + (f" ({date_text(c.answered_at)})" if c.answered_at else ""))
    buttons = tuple(Choice(f"practice:drop:{c.id}",
                           turn.t("practice.drop_button", title=title_of(turn, c)[:40]))
                    for c in open_ones[:MAX_DROP_BUTTONS])
    return "\n".join(lines), buttons


def followup_text(content: Content, commitment: Commitment,
                  locale: str) -> tuple[str, tuple[Choice, ...]]:
    """The follow-up message and its four buttons."""
    title = action_title(content, commitment.question, commitment.level, commitment.persona,
                         locale)
    buttons = tuple(Choice(f"practice:o:{commitment.id}:{o}",
                           content.text(BUTTON_WORDS[o], locale))
                    for o in OUTCOME_BUTTONS)
    return content.text("practice.followup", locale, title=title), buttons
