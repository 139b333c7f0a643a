"""Moving a user off steps that no longer exist (a content reload, an older release's states)."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.core.dialogue_steps import DialogueSteps
from bot.engine.core.machines import DialogueMachine, step_of
from bot.engine.core.records import Position, UserRecord


def repaired(steps: DialogueSteps, machines: dict[str, DialogueMachine],
             user: UserRecord) -> UserRecord | None:
    """The record with every position on a surviving step; None when nothing had to move."""
    moved = False
    kept: list[Position] = []
    for pos in user.positions:
        machine = machines.get(pos.dialogue)
        if machine is None:
            moved = moved or pos.dialogue == user.active
            continue
        start_ok = pos.pass_start is None or machine.dialogue.step(pos.pass_start) is not None
        if machine.has_state(pos.state) and start_ok:
            kept.append(pos)
            continue
        kept.append(nearest(steps, machine, pos))
        moved = True
    if not moved:
        return None
    active = user.active if user.active in machines else None
    return replace(user, positions=tuple(kept), active=active, awaiting=None)


def nearest(steps: DialogueSteps, machine: DialogueMachine, pos: Position) -> Position:
    """The closest surviving step: the same step, its strand's entry, or the start."""
    dialogue = machine.dialogue
    step = dialogue.step(step_of(pos.state))
    was_note = step_of(pos.state) != pos.state
    if step is not None and step.kind == "ask" and step.ask and was_note \
            and pos.pending_level is not None:
        # A note state stored before notes rode on the prompt: the answer was given but not
        # yet kept, so keep it and move on.
        steps.record_answer(pos, step.ask, pos.pending_level, None)
        step = dialogue.step(step.next or "") or step
    if step is None:
        strand = step_of(pos.state).split(".")[0]
        entry = dict(dialogue.entry_points).get(strand)
        step = dialogue.step(entry or "") or dialogue.step(dialogue.start)
    state = step.id if step is not None else dialogue.start
    start = pos.pass_start if pos.pass_start and dialogue.step(pos.pass_start) else state
    return replace(pos, state=state, pass_start=start, pending_level=None)
