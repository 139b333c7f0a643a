"""The guided cycle in the chat: /cycle, /strand, /back, /skip, /where, /pause, /restart."""

from __future__ import annotations

from dataclasses import replace

from bot.definitions.model import Question
from bot.engine.core.commands import Command
from bot.engine.core.dialogue_steps import CYCLE
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.records import Position
from bot.engine.features.cycle.buttons import prompt_buttons, question_buttons
from bot.engine.features.cycle.summary_views import cycle_summary


class CycleFeature(Feature):
    """Walking the cycle of four strands, a question at a time, and its end-of-cycle summary."""

    # Bare names: these awaiting states are stored in users' records from before prefixes.
    awaits = ("strand", "restart")

    def cmd_cycle(self, turn: TurnApi, arg: str) -> None:
        turn.steps.ensure_cycle()
        turn.record = replace(turn.user, active=CYCLE)
        turn.show_current = True

    def cmd_strand(self, turn: TurnApi, arg: str) -> None:
        if not arg:
            turn.record = replace(turn.user, awaiting="strand")
            turn.show_current = True
            return
        strand = turn.steps.find_strand(arg)
        if strand is None:
            names = ", ".join(s.title.get(turn.locale) for s in turn.content.strands)
            turn.say(turn.t("hint.unknown_strand", name=arg[:40], strands=names))
            turn.record = replace(turn.user, awaiting="strand")
            turn.show_current = True
            return
        turn.steps.jump_to_strand(strand)

    def cmd_back(self, turn: TurnApi, arg: str) -> None:
        pos = self.cycle_position_or_hint(turn)
        if pos is not None:
            turn.steps.back(pos)
            turn.show_current = True

    def cmd_skip(self, turn: TurnApi, arg: str) -> None:
        pos = self.cycle_position_or_hint(turn)
        if pos is not None:
            turn.steps.skip(pos)
            turn.show_current = True

    def cmd_where(self, turn: TurnApi, arg: str) -> None:
        pos = turn.user.position(CYCLE)
        if pos is None:
            turn.say(turn.t("where.not_started"))
            return
        answered = {a.question for a in turn.store.answers(turn.user.key, CYCLE)
                    if a.cycle == pos.cycle}
        total = len(turn.steps.machine(CYCLE).steps_in_pass(pos.pass_start or pos.state))
        turn.say(turn.t("where", where=turn.steps.progress_line(pos) or turn.t("where.summary"),
                        answered=len(answered), total=total))
        turn.record = replace(turn.user, active=CYCLE)
        turn.show_current = True

    def cmd_pause(self, turn: TurnApi, arg: str) -> None:
        pos = turn.user.position(CYCLE)
        where = turn.steps.progress_line(pos) if pos else ""
        turn.say(turn.t("paused", where=where) if where else turn.t("paused_nothing"))
        turn.paused()

    def cmd_restart(self, turn: TurnApi, arg: str) -> None:
        turn.record = replace(turn.user, awaiting="restart")
        turn.show_current = True

    COMMANDS = (
        Command("cycle", cmd_cycle, "command.cycle"),
        Command("strand", cmd_strand, "command.strand", usage="command.strand.usage"),
        Command("back", cmd_back, "command.back"),
        Command("skip", cmd_skip, "command.skip"),
        Command("where", cmd_where, "command.where"),
        Command("pause", cmd_pause, "command.pause"),
        Command("restart", cmd_restart, "command.restart"),
    )

    @staticmethod
    def cycle_position_or_hint(turn: TurnApi) -> Position | None:
        pos = turn.user.position(CYCLE)
        if pos is None:
            turn.say(turn.t("where.not_started"))
            return None
        turn.record = replace(turn.user, active=CYCLE)
        return pos

    # ------------------------------------------------------------------ confirmations
    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        if awaiting == "restart":
            return turn.t("restart.confirm"), (turn.choice("yes", turn.t("yes")),
                                               turn.choice("no", turn.t("no")))
        if awaiting == "strand":
            return turn.t("strand.pick"), tuple(
                turn.choice(s.id, s.title.get(turn.locale)) for s in turn.content.strands)
        return None

    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        if awaiting == "strand":
            strand = turn.content.strand(option)
            if strand is not None:
                turn.steps.jump_to_strand(strand)
        elif awaiting == "restart" and option == "yes":
            turn.steps.restart_cycle()
        elif option == "no":
            turn.say(turn.t("cancelled"))

    # ------------------------------------------------------------------ buttons
    def question_buttons(self, turn: TurnApi, question: Question) -> tuple[Choice, ...]:
        return question_buttons(turn, question)

    def prompt_buttons(self, turn: TurnApi, question: Question, level: int,
                       broadcast: int | None = None) -> tuple[Choice, ...]:
        # The evidence card belongs to the cycle's prompts; a broadcast's answer has its own.
        return prompt_buttons(turn, question, level) if broadcast is None else ()

    # ------------------------------------------------------------------ the summary
    def summary(self, turn: TurnApi, kind: str,
                pos: Position) -> tuple[str, tuple[Choice, ...]] | None:
        return cycle_summary(turn, pos) if kind == "cycle" else None

    def after_summary(self, turn: TurnApi, kind: str, pos: Position, option: str) -> bool:
        if kind != "cycle":
            return False
        if option == "later":
            turn.say(turn.t("paused_summary"))
            turn.show_current = False
            return True
        # "next" is the paper's cycle, back to Outcomes; a strand id is the weakest-strand offer.
        target = turn.content.strands[0].id if option == "next" else option
        turn.steps.goto_strand(pos, target or "", next_pass=True)
        return True
