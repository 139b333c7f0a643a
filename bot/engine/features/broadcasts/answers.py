"""Recipients' answers to a broadcast: its level buttons, the note after, forged taps."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.core.events import Choice
from bot.engine.core.feature_api import TurnApi
from bot.engine.core.records import MAX_NOTE_CHARS
from bot.engine.features.broadcasts.views import PREVIEW
from bot.engine.ports.directory import Directory
from bot.engine.ports.directory_ops import RecordAnswer, RecordNote


def note_prompt(directory: Directory, turn: TurnApi,
                payload: str) -> tuple[str, tuple[Choice, ...]] | None:
    """The note question after a broadcast answer, or None if the broadcast is gone."""
    broadcast = directory.broadcast(int(payload)) if payload.isdigit() else None
    if broadcast is None:
        return None
    question = turn.content.questions.get(broadcast.question or "")
    reflection = question.reflection.get(turn.locale) if question and question.reflection \
        else turn.t("bc.note_generic")
    return (turn.t("bc.note_ask", reflection=reflection),
            (turn.choice("skip", turn.t("bc.skip")),))


def record_note(directory: Directory, turn: TurnApi, payload: str, text: str) -> None:
    """Keep a recipient's note on a broadcast they received."""
    turn.record = replace(turn.user, awaiting=None)
    broadcast = directory.broadcast(int(payload)) if payload.isdigit() else None
    if broadcast is None or directory.delivery_of(broadcast.id, turn.user.key) is None:
        return
    turn.ops.append(RecordNote(broadcast.id, str(turn.user.key), text[:MAX_NOTE_CHARS],
                               turn.now))
    if len(text) > MAX_NOTE_CHARS:
        turn.say(turn.t("note.truncated", limit=MAX_NOTE_CHARS))
    turn.say(turn.t("bc.note_saved"))


def button(directory: Directory, turn: TurnApi, data: str) -> bool:
    """A tap on a broadcast message's button; True (always handled, if only politely)."""
    parts = data.split(":")
    if len(parts) == 3 and parts[1] == PREVIEW:
        turn.say(turn.t("bc.preview_tap"))
        turn.stale = True
        return True
    broadcast = directory.broadcast(int(parts[1])) \
        if len(parts) == 3 and parts[1].isdigit() else None
    if broadcast is None or directory.delivery_of(broadcast.id, turn.user.key) is None:
        return not_for_you(turn, data)
    if parts[2] == "n":
        turn.record = replace(turn.user, awaiting=f"bc:note:{broadcast.id}")
        turn.show_current = True
        return True
    question = turn.content.questions.get(broadcast.question or "")
    scale = turn.content.scales.get(question.scale) if question else None
    level = scale.level(int(parts[2])) if scale and parts[2].isdigit() else None
    if broadcast.kind != "prompt" or question is None or level is None:
        return not_for_you(turn, data)
    label = level.label.get(turn.locale)
    earlier = directory.answer_of(broadcast.id, turn.user.key)
    if earlier is not None and earlier.level is not None:
        # The first answer counts; a double tap or second thought changes nothing.
        found = scale.level(earlier.level) if scale else None
        turn.say(turn.t("bc.already_answered",
                        answer=found.label.get(turn.locale) if found else earlier.level))
        return True
    turn.ops.append(RecordAnswer(broadcast.id, str(turn.user.key), level.level, turn.now))
    turn.chosen = label
    text = turn.action(question, level.level) or label
    turn.say(text, (Choice(f"bc:{broadcast.id}:n", turn.t("bc.write_reflection")),
                    *turn.prompt_buttons(question, level.level, broadcast.id)))
    return True


def not_for_you(turn: TurnApi, data: str) -> bool:
    """A forged or foreign broadcast button: a polite answer, logged, nothing changes."""
    turn.refused.append(f"button {data[:64]}")
    turn.stale = True
    turn.say(turn.t("bc.not_for_you"))
    return True
