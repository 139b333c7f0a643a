"""The one-minute reflection: /reflect, one question per strand, and its summary."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.core.commands import Command
from bot.engine.core.dialogue_steps import CYCLE, REFLECT
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.records import Position
from bot.engine.features.reflect.summary_view import reflection_summary


class ReflectFeature(Feature):
    """Starts or restarts the reflection and answers its summary's buttons."""

    def cmd_reflect(self, turn: TurnApi, arg: str) -> None:
        pos = turn.user.position(REFLECT)
        dialogue = turn.content.dialogues[REFLECT]
        if pos is None:
            pos = Position(REFLECT, dialogue.start, cycle=1, pass_start=dialogue.start)
        elif pos.state == dialogue.summary_step or turn.steps.kind_at(pos) == "summary":
            pos = Position(REFLECT, dialogue.start, cycle=pos.cycle + 1,
                           pass_start=dialogue.start)
        turn.say(turn.t("reflect.intro"))
        turn.set_position(pos)
        turn.show_current = True

    COMMANDS = (Command("reflect", cmd_reflect, "command.reflect"),)

    def summary(self, turn: TurnApi, kind: str,
                pos: Position) -> tuple[str, tuple[Choice, ...]] | None:
        return reflection_summary(turn, pos) if kind == "reflection" else None

    def after_summary(self, turn: TurnApi, kind: str, pos: Position, option: str) -> bool:
        if kind != "reflection":
            return False
        if option == "strand":
            strand = turn.content.strand(turn.steps.weakest_strand(pos) or "")
            if strand is not None:
                turn.steps.jump_to_strand(strand)
                return True
        turn.say(turn.t("reflect.done"))
        turn.record = replace(turn.user, active=CYCLE if turn.user.position(CYCLE) else None)
        turn.show_current = False
        return True
