"""Stepping through a dialogue: answering, notes, choices, moves, jumps and what a step shows.

One tap per step: an answer is recorded at once, its prompt (offering a note) and the next
question go out together, and a note typed before the next move is kept with that answer.

The cycle, onboarding and the reflection are all dialogues of ask, choose, summary and end
steps (dialogues/*.yaml); this is the one place that walks them. Summary steps are drawn and
answered by the feature that owns their kind (the cycle's and the reflection's features).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from bot.definitions.model import Content, Dialogue, Question, Step, Strand
from bot.engine.core.events import Choice
from bot.engine.core.machines import Cursor, DialogueMachine, IllegalMove, step_of
from bot.engine.core.records import MAX_NOTE_CHARS, Answer, Position, UserRecord
from bot.engine.core.summaries import latest_levels, summarise
from bot.engine.core.texts import titled_question
from bot.engine.core.typed import normalise
from bot.engine.ports.store import Store

ONBOARDING = "onboarding"
CYCLE = "cycle"
REFLECT = "reflect"


class StepContext(Protocol):
    """The parts of a turn that stepping reads and changes (the Turn satisfies it)."""

    content: Content
    machines: dict[str, DialogueMachine]
    record: UserRecord | None
    answers: list[Answer]
    notes: list[Answer]
    now: float
    forget: bool
    show_current: bool

    @property
    def user(self) -> UserRecord: ...

    @property
    def locale(self) -> str: ...

    @property
    def store(self) -> Store: ...

    def t(self, message_id: str, **values: object) -> str: ...

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None: ...

    def choice(self, option: str, label: str) -> Choice: ...

    def action(self, question: Question, level: int) -> str | None: ...

    def use_start_payload(self, payload: str) -> bool: ...

    def question_buttons(self, question: Question) -> tuple[Choice, ...]: ...

    def prompt_buttons(self, question: Question, level: int,
                       broadcast: int | None = None) -> tuple[Choice, ...]: ...


class DialogueSteps:
    """The moves of one turn through the user's dialogues."""

    def __init__(self, turn: StepContext) -> None:
        self.turn = turn

    # ------------------------------------------------------------------ reading
    def machine(self, dialogue: str) -> DialogueMachine:
        return self.turn.machines[dialogue]

    def position(self) -> Position | None:
        """The user's place in their active dialogue."""
        active = self.turn.user.active
        return self.turn.user.position(active) if active else None

    def set_position(self, position: Position) -> None:
        """Make `position` the user's place in its dialogue, and that dialogue active."""
        user = self.turn.user
        self.turn.record = replace(user.with_position(position), active=position.dialogue)

    def step_at(self, pos: Position) -> Step | None:
        """The step a position is on."""
        return self.machine(pos.dialogue).dialogue.step(step_of(pos.state))

    def kind_at(self, pos: Position) -> str:
        step = self.step_at(pos)
        return step.kind if step else ""

    def note_open(self) -> bool:
        """True when a typed message would be the note for the answer just given.

        `pending_level` marks it: set by an answer whose step offers a note, cleared by any
        other move, so a note can only ever join the answer whose prompt offered it.
        """
        pos = self.position() if self.turn.record else None
        return (pos is not None and pos.pending_level is not None
                and self.turn.user.awaiting is None)

    def cycle_has_answers(self, pos: Position) -> bool:
        """True when anything (even a skip-with-note) was recorded in this pass."""
        turn = self.turn
        return any(a.cycle == pos.cycle for a in turn.answers) or any(
            a.cycle == pos.cycle for a in turn.store.answers(turn.user.key, pos.dialogue))

    def cycle_levels(self, pos: Position) -> dict[str, int]:
        """The latest level per question answered in this pass of the position's dialogue."""
        turn = self.turn
        history = [a for a in turn.store.answers(turn.user.key, pos.dialogue)
                   if a.cycle == pos.cycle]
        history += [a for a in turn.answers if a.cycle == pos.cycle]
        return latest_levels(history)

    def weakest_strand(self, pos: Position) -> str | None:
        summary = summarise(self.turn.content, self.cycle_levels(pos))
        if summary.weakest is None:
            return self.turn.content.strands[0].id
        return summary.weakest.strand

    def find_strand(self, name: str) -> Strand | None:
        """A strand by id or title in any language, or an unambiguous prefix of one."""
        content, wanted = self.turn.content, normalise(name)
        for strand in content.strands:
            titles = {normalise(strand.title.get(code)) for code in strand.title.locales}
            if wanted == strand.id or wanted in titles:
                return strand
        matches = [s for s in content.strands
                   if s.id.startswith(wanted) or normalise(s.title.get(self.turn.locale))
                   .startswith(wanted)]
        return matches[0] if len(matches) == 1 and wanted else None

    # ------------------------------------------------------------------ moving
    def move(self, pos: Position, trigger: str) -> Position:
        state = self.machine(pos.dialogue).fire(Cursor(pos.state, pos.pass_start), trigger)
        new = replace(pos, state=state, pending_level=None)
        self.set_position(new)
        return new

    def back(self, pos: Position) -> None:
        """One question back."""
        if self.kind_at(pos) == "ask":
            try:
                state = self.machine(pos.dialogue).fire(Cursor(pos.state, pos.pass_start),
                                                        "back")
            except IllegalMove:
                self.turn.say(self.turn.t("hint.at_first_step"))
            else:
                self.set_position(replace(pos, state=state, pending_level=None))

    def skip(self, pos: Position) -> None:
        if self.kind_at(pos) == "ask":
            self.move(pos, "skip")
        else:
            self.turn.say(self.turn.t("hint.nothing_to_skip"))

    def act(self, pos: Position, option: str) -> str | None:
        """Carry out an option on the current step; returns the summary kind if it is one."""
        step = self.machine(pos.dialogue).dialogue.step(pos.state)
        if step is None:
            return None
        if step.kind == "ask":
            if option == "skip":
                self.move(pos, "skip")
            else:
                self.answer(pos, step, int(option))
        elif step.kind == "choose":
            self.choose(pos, step, option)
        elif step.kind == "summary":
            return step.summary or "cycle"
        return None

    def answer(self, pos: Position, step: Step, level: int) -> None:
        """Record the answer, say its prompt (offering a note) and move to the next step."""
        turn = self.turn
        question = turn.content.questions[step.ask or ""]
        offers_note = step.note and question.reflection is not None
        prompt = turn.action(question, level)
        if prompt is not None:
            if offers_note and question.reflection is not None:
                prompt += "\n\n" + turn.t("note.offer",
                                            reflection=question.reflection.get(turn.locale))
            turn.say(prompt, turn.prompt_buttons(question, level))
        self.record_answer(pos, question.id, level, None)
        new = self.move(pos, "answer")
        if offers_note:
            self.set_position(replace(new, pending_level=level))

    def last_answer(self, pos: Position) -> Answer | None:
        """The answer a note would join: the last of this pass, at the level it marks."""
        turn = self.turn
        history = [a for a in turn.store.answers(turn.user.key, pos.dialogue)
                   if a.cycle == pos.cycle]
        last = history[-1] if history else None
        return last if last is not None and last.level == pos.pending_level else None

    def last_prompt_choices(self) -> tuple[Choice, ...]:
        """The buttons under the prompt just shown, while its note is still open."""
        pos = self.position()
        last = self.last_answer(pos) if pos is not None and self.note_open() else None
        question = self.turn.content.questions.get(last.question) if last else None
        if last is None or question is None or last.level is None:
            return ()
        return self.turn.prompt_buttons(question, last.level)

    def add_note(self, pos: Position, note: str) -> None:
        """Keep a typed note with the answer just given, in that answer's row."""
        turn = self.turn
        last = self.last_answer(pos)
        self.set_position(replace(pos, pending_level=None))
        if last is None:
            turn.say(turn.t("hint.not_understood"))
            return
        if len(note) > MAX_NOTE_CHARS:
            note = note[:MAX_NOTE_CHARS]
            turn.say(turn.t("note.truncated", limit=MAX_NOTE_CHARS))
        else:
            turn.say(turn.t("note.saved"))
        turn.notes.append(replace(last, note=note))

    def record_answer(self, pos: Position, question: str, level: int | None,
                      note: str | None) -> None:
        turn = self.turn
        turn.answers.append(Answer(turn.user.key, pos.dialogue, pos.cycle, question, level,
                                   note, turn.now))

    def choose(self, pos: Position, step: Step, option_id: str) -> None:
        turn = self.turn
        option = next((o for o in step.options if o.id == option_id), None)
        if option is None:
            return
        for key, value in option.sets:
            if key == "consent":
                turn.record = replace(turn.user, consent=value.lower() == "true")
            elif key == "persona":
                turn.record = replace(turn.user, persona=value)
        new = self.move(pos, f"choose:{option.id}")
        target = self.machine(pos.dialogue).dialogue.step(new.state)
        if target is not None and target.kind == "end":
            self.end_dialogue(target)

    def end_dialogue(self, step: Step) -> None:
        turn = self.turn
        if step.end == "declined":
            turn.forget = True
            turn.show_current = False
            turn.say(turn.t("onboarding.declined"))
            return
        if step.end == "start_cycle":
            turn.say(turn.t("onboarding.done"))
            payload = turn.user.start_payload
            turn.record = replace(turn.user, start_payload=None)
            self.ensure_cycle()
            if payload:
                turn.use_start_payload(payload)

    def ensure_cycle(self) -> None:
        """Make the cycle the active dialogue, starting it the first time."""
        pos = self.turn.user.position(CYCLE)
        if pos is None:
            start = self.turn.content.dialogues[CYCLE].start
            pos = Position(CYCLE, start, cycle=1, pass_start=start)
        self.set_position(pos)

    def goto_strand(self, pos: Position, strand_id: str, next_pass: bool) -> bool:
        """Jump to a strand's entry; `next_pass` starts a new pass there. False if none."""
        entry = dict(self.turn.content.dialogues[CYCLE].entry_points).get(strand_id)
        if entry is None:
            return False
        state = self.machine(CYCLE).fire(Cursor(pos.state, pos.pass_start), f"goto:{entry}")
        if next_pass:
            pos = replace(pos, cycle=pos.cycle + 1, pass_start=entry)
        self.set_position(replace(pos, state=state, pending_level=None))
        return True

    def jump_to_strand(self, strand: Strand) -> None:
        entry = dict(self.turn.content.dialogues[CYCLE].entry_points).get(strand.id)
        if entry is None:
            return
        self.ensure_cycle()
        pos = self.turn.user.position(CYCLE)
        assert pos is not None
        summary = self.turn.content.dialogues[CYCLE].summary_step
        if pos.state == summary:
            # Leaving the summary by a jump starts the next pass at the chosen strand.
            self.goto_strand(pos, strand.id, next_pass=True)
        else:
            if not self.cycle_has_answers(pos):
                # Nothing answered in this pass yet: the pass starts where the user chose.
                pos = replace(pos, pass_start=entry)
            self.goto_strand(pos, strand.id, next_pass=False)
        self.turn.show_current = True

    def restart_cycle(self) -> None:
        pos = self.turn.user.position(CYCLE)
        start = self.turn.content.dialogues[CYCLE].start
        cycle = 1
        if pos is not None:
            cycle = pos.cycle + 1 if self.cycle_has_answers(pos) else pos.cycle
        self.set_position(Position(CYCLE, start, cycle=cycle, pass_start=start))
        self.turn.say(self.turn.t("restarted"))

    # ------------------------------------------------------------------ showing
    def step_prompt(self, pos: Position) -> tuple[str, tuple[Choice, ...]] | str | None:
        """What an ask or choose step shows; a summary step's kind; None for nothing."""
        turn = self.turn
        dialogue = self.machine(pos.dialogue).dialogue
        step = dialogue.step(step_of(pos.state))
        if step is None:
            return None
        if step.kind == "ask" and step.ask:
            question = turn.content.questions[step.ask]
            return self.question_text(pos, dialogue, question), self.level_choices(question)
        if step.kind == "choose" and step.choose:
            text = "\n\n".join([*(turn.t(m) for m in step.say), turn.t(step.choose)])
            return text, tuple(turn.choice(o.id, turn.t(o.label)) for o in step.options)
        if step.kind == "summary":
            return step.summary or "cycle"
        return None

    def level_choices(self, question: Question) -> tuple[Choice, ...]:
        turn = self.turn
        scale = turn.content.scales[question.scale]
        levels = tuple(turn.choice(str(lv.level), lv.label.get(turn.locale))
                       for lv in scale.levels)
        return (*levels, turn.choice("skip", turn.t("skip")), *turn.question_buttons(question))

    def progress_line(self, pos: Position) -> str:
        """'Cycle 2 · Delivery · 2 of 3 · step 8 of 12', or '' outside the questions."""
        turn = self.turn
        machine = self.machine(pos.dialogue)
        step_id = step_of(pos.state)
        step = machine.dialogue.step(step_id)
        if step is None or step.kind != "ask" or not step.ask:
            return ""
        order = machine.steps_in_pass(pos.pass_start or machine.dialogue.start)
        if pos.dialogue != CYCLE:
            n = order.index(step_id) + 1 if step_id in order else 1
            return turn.t("reflect.progress", step=n, total=len(order))
        question = turn.content.questions[step.ask]
        strand = turn.content.strand(question.strand)
        in_strand = [s.id for s in strand.sub_components] if strand else [step.ask]
        k = in_strand.index(step.ask) + 1 if step.ask in in_strand else 1
        n = order.index(step_id) + 1 if step_id in order else 1
        title = strand.title.get(turn.locale) if strand else question.strand
        return turn.t("progress", cycle=pos.cycle, strand=title, k=k, of=len(in_strand),
                      step=n, total=len(order))

    def question_text(self, pos: Position, dialogue: Dialogue, question: Question) -> str:
        progress = self.progress_line(pos)
        body = titled_question(self.turn.content, question, self.turn.locale)
        return f"{progress}\n\n{body}" if progress else body
