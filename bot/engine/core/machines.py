"""One `transitions` machine per dialogue, built at start-up and shared by every user.

A user's place is loaded from storage into a throw-away `Cursor`, an event is fired on it, and
the new state is stored again: no machine and no model is kept per user (DESIGN.md §4 rule 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine, MachineError

from bot.definitions.model import Dialogue, Step

# Before notes rode on the prompt (one tap per step), an ask step had a second state where
# its note was awaited. Such states may still be stored in users' records; the turn's repair
# moves them on (turn.py, `nearest`).
NOTE_SUFFIX = "#note"


class IllegalMove(Exception):
    """The trigger is not allowed from the current state (e.g. a stale or forged button)."""


@dataclass
class Cursor:
    """A throw-away model: the state of one user in one dialogue, for one event."""

    state: str
    pass_start: str | None = None


def step_of(state: str) -> str:
    """The step id a state belongs to (a stored note state belongs to its question's step)."""
    return state.removesuffix(NOTE_SUFFIX)


def _completes_pass(next_step: str) -> Any:
    def check(event: EventData) -> bool:
        cursor: Cursor = event.model  # type: ignore[assignment]
        return cursor.pass_start == next_step

    return check


def _not_pass_start(step_id: str) -> Any:
    def check(event: EventData) -> bool:
        cursor: Cursor = event.model  # type: ignore[assignment]
        return cursor.pass_start != step_id

    return check


class DialogueMachine:
    """The states and legal moves of one dialogue, with helpers to walk its steps."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue
        self.states = self._states()
        self.transitions = self._transitions()
        self.machine = Machine(
            model=None,
            states=self.states,
            transitions=self.transitions,
            initial=dialogue.start,
            auto_transitions=False,
            send_event=True,
        )

    def _states(self) -> list[str]:
        return [step.id for step in self.dialogue.steps]

    def _onward(self, trigger: str, source: str, step: Step) -> list[dict[str, Any]]:
        """Moves from `source` to the step after `step`, or to the summary after a full pass."""
        if step.next is None:
            return []
        moves: list[dict[str, Any]] = []
        summary = self.dialogue.summary_step
        if self.dialogue.ring and summary:
            moves.append({"trigger": trigger, "source": source, "dest": summary,
                          "conditions": [_completes_pass(step.next)]})
        moves.append({"trigger": trigger, "source": source, "dest": step.next})
        return moves

    def _transitions(self) -> list[dict[str, Any]]:
        moves: list[dict[str, Any]] = []
        for step in self.dialogue.steps:
            if step.kind == "ask":
                moves += self._onward("answer", step.id, step)
                moves += self._onward("skip", step.id, step)
                moves.append({"trigger": f"goto:{step.id}", "source": "*", "dest": step.id})
            elif step.kind == "choose":
                for option in step.options:
                    moves.append({"trigger": f"choose:{option.id}", "source": step.id,
                                  "dest": option.next})
            elif step.kind == "summary" and step.next:
                moves.append({"trigger": "continue", "source": step.id, "dest": step.next})
        for step in self.dialogue.ask_steps:
            if step.next and self.dialogue.step(step.next):
                target = self.dialogue.step(step.next)
                if target and target.kind == "ask":
                    moves.append({"trigger": "back", "source": step.next, "dest": step.id,
                                  "conditions": [_not_pass_start(step.next)]})
        return moves

    def fire(self, cursor: Cursor, trigger: str) -> str:
        """Fire `trigger` on the cursor; return the new state or raise IllegalMove."""
        event = self.machine.events.get(trigger)
        if event is None:
            raise IllegalMove(f"no move '{trigger}' in dialogue '{self.dialogue.id}'")
        try:
            moved = event.trigger(cursor)
        except MachineError as exc:
            raise IllegalMove(str(exc)) from exc
        if not moved:
            raise IllegalMove(f"'{trigger}' is not allowed from '{cursor.state}'")
        return cursor.state

    def has_state(self, state: str) -> bool:
        """True when `state` exists in this dialogue."""
        return state in self.machine.states

    def steps_in_pass(self, start: str) -> list[str]:
        """Ask step ids of one pass, in order, starting at `start`."""
        order: list[str] = []
        current: str | None = start
        while current and current not in order:
            step = self.dialogue.step(current)
            if step is None or step.kind != "ask":
                break
            order.append(current)
            current = step.next
        return order


def build_machines(dialogues: dict[str, Dialogue]) -> dict[str, DialogueMachine]:
    """One machine per dialogue, built once at start-up."""
    return {dialogue_id: DialogueMachine(d) for dialogue_id, d in dialogues.items()}
