"""One event's worth of conversation: read the user's place, act, and say what comes next."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.definitions.model import Content, Dialogue, Question, Step, Strand
from bot.engine import my_reports, summary_views
from bot.engine.charts import Chart, ChartRenderer
from bot.engine.events import Attachment, Choice, Event, Reply, Response
from bot.engine.machines import (
    Cursor,
    DialogueMachine,
    IllegalMove,
    is_note_state,
    step_of,
)
from bot.engine.records import MAX_NOTE_CHARS, Answer, Op, Position, UserRecord
from bot.engine.summaries import latest_levels, summarise
from bot.engine.texts import prompt_with_evidence, titled_question
from bot.engine.typed import normalise, typed_choice, typed_level

if TYPE_CHECKING:
    from bot.engine.engine import Engine

log = logging.getLogger(__name__)

ONBOARDING = "onboarding"
CYCLE = "cycle"
REFLECT = "reflect"
# Messages longer than this are not read as answers or commands (a pasted document, a flood).
MAX_TEXT_CHARS = 10_000

_CHOICE = re.compile(r"^t(\d+):([A-Za-z0-9_.\-]+)$")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


class Turn:
    """The work for one event: a mutable scratchpad that ends as a Response and a Commit."""

    def __init__(self, engine: Engine, event: Event, record: UserRecord | None, now: float):
        self.engine = engine
        # Content and machines are read once, so a reload between turns never splits a turn.
        self.content: Content = engine.content
        self.machines: dict[str, DialogueMachine] = engine.machines
        self.event = event
        self.now = now
        self.record = record
        self.replies: list[Reply] = []
        self.answers: list[Answer] = []
        self.forget = False
        self.chosen: str | None = None
        self.stale = False
        self.show_current = False
        self.refused: list[str] = []
        self.ops: list[Op] = []

    # ------------------------------------------------------------------ helpers
    @property
    def locale(self) -> str:
        if self.record is not None:
            return self.record.locale
        return self.engine.pick_locale(self.event.locale)

    def t(self, message_id: str, **values: object) -> str:
        return self.content.text(message_id, self.locale, **values)

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        self.replies.append(Reply(text, choices))

    @property
    def user(self) -> UserRecord:
        assert self.record is not None, "a user record exists past first contact"
        return self.record

    def machine(self, dialogue: str) -> DialogueMachine:
        return self.machines[dialogue]

    def position(self) -> Position | None:
        active = self.user.active
        return self.user.position(active) if active else None

    def set_position(self, position: Position) -> None:
        self.record = replace(self.user.with_position(position), active=position.dialogue)

    def signature(self) -> tuple[object, ...]:
        if self.record is None:
            return ()
        pos = self.position()
        return (self.record.active, pos and pos.state, pos and pos.cycle, self.record.awaiting)

    # ------------------------------------------------------------------ entry
    def run(self) -> Response:
        before = self.signature()
        if self.record is None:
            self.first_contact()
        else:
            self.record = replace(self.record, last_seen=self.now)
            self.repair()
            self.dispatch()
        if self.record is not None and not self.forget:
            if self.signature() != before:
                self.record = replace(self.record, turn=self.record.turn + 1)
            if self.show_current:
                self.render_current()
        return Response(tuple(self.replies), chosen=self.chosen, stale_choice=self.stale)

    def repair(self) -> None:
        """Move the user off steps a content reload removed, to the nearest valid one."""
        moved = False
        kept: list[Position] = []
        for pos in self.user.positions:
            machine = self.machines.get(pos.dialogue)
            if machine is None:
                moved = moved or pos.dialogue == self.user.active
                continue
            start_ok = pos.pass_start is None or machine.dialogue.step(pos.pass_start) is not None
            if machine.has_state(pos.state) and start_ok:
                kept.append(pos)
                continue
            kept.append(self.nearest(machine, pos))
            moved = True
        if not moved:
            return
        active = self.user.active if self.user.active in self.machines else None
        self.record = replace(self.user, positions=tuple(kept), active=active, awaiting=None)
        self.say(self.t("reload.moved"))

    def nearest(self, machine: DialogueMachine, pos: Position) -> Position:
        """The closest surviving step: the same step, its strand's entry, or the start."""
        dialogue = machine.dialogue
        step = dialogue.step(step_of(pos.state))
        if step is not None and step.kind == "ask" and pos.pending_level is not None and step.ask:
            # The note step is gone but the answer was given: keep it and move on.
            self.record_answer(pos, step.ask, pos.pending_level, None)
            step = dialogue.step(step.next or "") or step
        if step is None:
            strand = step_of(pos.state).split(".")[0]
            entry = dict(dialogue.entry_points).get(strand)
            step = dialogue.step(entry or "") or dialogue.step(dialogue.start)
        state = step.id if step is not None else dialogue.start
        start = pos.pass_start if pos.pass_start and dialogue.step(pos.pass_start) else state
        return replace(pos, state=state, pass_start=start, pending_level=None)

    def dispatch(self) -> None:
        event = self.event
        if event.unsupported:
            self.say(self.t("hint.unsupported"))
            self.show_current = True
        elif event.choice is not None:
            self.on_choice(event.choice)
        else:
            text = event.text.strip()
            if len(text) > MAX_TEXT_CHARS and not self.at_note():
                self.say(self.t("hint.too_long", limit=MAX_NOTE_CHARS))
                self.show_current = True
            elif text.startswith("/"):
                self.on_command(text)
            else:
                self.on_text(text)

    def first_contact(self) -> None:
        command = _COMMAND.match(self.event.text.strip())
        name = command.group(1).lower() if command else ""
        if name in ("forget", "mydata"):
            self.say(self.t("privacy.nothing_stored"))
            return
        payload = (command.group(2) or "").strip() if command and name == "start" else ""
        self.record = UserRecord(
            key=self.event.user, locale=self.engine.pick_locale(self.event.locale),
            created_at=self.now, last_seen=self.now, start_payload=payload[:64] or None,
            # Button ids carry the turn. Counting from the clock (ms) rather than 0 keeps a button
            # left in the chat from a forgotten or declined record from matching a new question.
            turn=int(self.now * 1000),
        )
        dialogue = self.content.dialogues[ONBOARDING]
        self.set_position(Position(ONBOARDING, dialogue.start))
        if name == "help":
            self.say(self.t("help"))
        self.show_current = True

    # ------------------------------------------------------------------ commands
    def on_command(self, text: str) -> None:
        match = _COMMAND.match(text)
        if match is None:
            self.say(self.t("hint.unknown_command", command=text.split()[0][:40]))
            self.show_current = True
            return
        name, arg = match.group(1).lower(), (match.group(2) or "").strip()
        core = getattr(self, f"cmd_{name}", None)
        added = self.engine.commands.get(name)
        if core is None and added is None:
            self.say(self.t("hint.unknown_command", command="/" + name[:40]))
            self.show_current = True
            return
        if not self.user.consent and name not in ("start", "help", "forget", "mydata"):
            self.say(self.t("onboarding.first"))
            self.show_current = True
            return
        if added is not None and added.requires and not self.has_role(added.requires):
            self.refuse(f"/{name}")
            return
        self.record = replace(self.user, awaiting=None)
        if core is not None:
            core(arg)
        elif added is not None:
            added.handler(self, arg)

    def cmd_start(self, arg: str) -> None:
        if not self.user.consent:
            self.show_current = True
            return
        if arg and self.use_start_payload(arg):
            return
        self.say(self.t("welcome_back"))
        self.ensure_cycle()
        self.show_current = True

    def cmd_help(self, arg: str) -> None:
        self.say(self.t("help"))
        self.show_current = True

    def cmd_cycle(self, arg: str) -> None:
        self.ensure_cycle()
        self.record = replace(self.user, active=CYCLE)
        self.show_current = True

    def cmd_strand(self, arg: str) -> None:
        if not arg:
            self.record = replace(self.user, awaiting="strand")
            self.show_current = True
            return
        strand = self.find_strand(arg)
        if strand is None:
            names = ", ".join(s.title.get(self.locale) for s in self.content.strands)
            self.say(self.t("hint.unknown_strand", name=arg[:40], strands=names))
            self.record = replace(self.user, awaiting="strand")
            self.show_current = True
            return
        self.jump_to_strand(strand)

    def cmd_back(self, arg: str) -> None:
        pos = self.cycle_position_or_hint()
        if pos is None:
            return
        if is_note_state(pos.state):
            self.set_position(replace(pos, state=step_of(pos.state), pending_level=None))
        elif self.current_step_kind(pos) == "ask":
            try:
                state = self.machine(CYCLE).fire(Cursor(pos.state, pos.pass_start), "back")
            except IllegalMove:
                self.say(self.t("hint.at_first_step"))
            else:
                self.set_position(replace(pos, state=state))
        self.show_current = True

    def cmd_skip(self, arg: str) -> None:
        pos = self.cycle_position_or_hint()
        if pos is None:
            return
        if is_note_state(pos.state):
            self.finish_note(pos, None)
        elif self.current_step_kind(pos) == "ask":
            self.move(pos, "skip")
        else:
            self.say(self.t("hint.nothing_to_skip"))
        self.show_current = True

    def cmd_pause(self, arg: str) -> None:
        pos = self.user.position(CYCLE)
        where = self.progress_line(pos) if pos else ""
        self.say(self.t("paused", where=where) if where else self.t("paused_nothing"))

    def cmd_where(self, arg: str) -> None:
        pos = self.user.position(CYCLE)
        if pos is None:
            self.say(self.t("where.not_started"))
            return
        answered = {a.question for a in self.engine.store.answers(self.user.key, CYCLE)
                    if a.cycle == pos.cycle}
        total = len(self.machine(CYCLE).steps_in_pass(pos.pass_start or pos.state))
        self.say(self.t("where", where=self.progress_line(pos) or self.t("where.summary"),
                        answered=len(answered), total=total))
        self.record = replace(self.user, active=CYCLE)
        self.show_current = True

    def cmd_profile(self, arg: str) -> None:
        my_reports.profile(self)

    def attach_chart(self, draw: Callable[[ChartRenderer], Chart], name: str) -> None:
        """Add a chart image; on failure the text already sent stands alone."""
        if self.engine.charts is None:
            return
        try:
            chart = draw(self.engine.charts)
        except Exception:  # a chart is a bonus: never lose the answer over it
            log.exception("%s chart for %s could not be drawn; sending the words only", name,
                          self.user.key)
            return
        image = Attachment(f"{name}.png", chart.png, "image/png", chart.caption)
        self.replies.append(Reply(chart.caption, image=image))

    def cmd_progress(self, arg: str) -> None:
        my_reports.progress(self)

    def cmd_reflect(self, arg: str) -> None:
        pos = self.user.position(REFLECT)
        dialogue = self.content.dialogues[REFLECT]
        if pos is None:
            pos = Position(REFLECT, dialogue.start, cycle=1, pass_start=dialogue.start)
        elif pos.state == dialogue.summary_step or self.current_step_kind(pos) == "summary":
            pos = Position(REFLECT, dialogue.start, cycle=pos.cycle + 1,
                           pass_start=dialogue.start)
        self.say(self.t("reflect.intro"))
        self.set_position(pos)
        self.show_current = True

    def cmd_language(self, arg: str) -> None:
        names = dict(self.content.locale_names)
        wanted = normalise(arg)
        code = next((c for c, n in names.items() if wanted in (c, normalise(n))), None)
        if code is None:
            if arg:
                self.say(self.t("language.unknown", name=arg[:40],
                                languages=", ".join(names.values())))
            self.record = replace(self.user, awaiting="language")
            self.show_current = True
            return
        self.set_language(code)

    def set_language(self, code: str) -> None:
        self.record = replace(self.user, locale=code)
        self.say(self.t("language.set", name=dict(self.content.locale_names)[code]))
        self.show_current = True

    def cmd_restart(self, arg: str) -> None:
        self.record = replace(self.user, awaiting="restart")
        self.show_current = True

    def cmd_mydata(self, arg: str) -> None:
        data = self.engine.store.export_user(self.user.key)
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        document = Attachment("my-data.json", body, "application/json", self.t("mydata.caption"))
        self.replies.append(Reply(self.t("mydata.sent"), document=document))

    def cmd_forget(self, arg: str) -> None:
        if not self.user.consent:
            self.forget = True
            self.say(self.t("forget.done"))
            return
        self.record = replace(self.user, awaiting="forget")
        self.show_current = True

    # ------------------------------------------------------------------ choices and text
    def on_choice(self, data: str) -> None:
        feature = self.engine.feature_for(data)
        if feature is not None and self.user.consent and feature.button(self, data):
            return
        match = _CHOICE.match(data)
        choices = self.current_choices()
        valid = {c.id: c for c in choices}
        # Membership first: int() of a forged 5,000-digit turn number raises ValueError.
        if match is None or data not in valid or int(match.group(1)) != self.user.turn:
            self.stale = True
            self.say(self.t("hint.moved_on"))
            self.show_current = True
            return
        self.chosen = valid[data].label
        self.act(match.group(2))

    def on_text(self, text: str) -> None:
        if not text:
            self.say(self.t("hint.empty"))
            self.show_current = True
            return
        pos = self.position()
        awaiting = self.user.awaiting
        feature = self.engine.feature_for(awaiting) if awaiting else None
        if feature is not None and awaiting is not None and feature.text(self, awaiting, text):
            self.show_current = True
            return
        if awaiting is None and pos is not None and is_note_state(pos.state):
            # Typing the Skip button's word is the same as tapping it, not a note saying "skip".
            skipped = normalise(text) == normalise(self.t("note.skip"))
            self.finish_note(pos, None if skipped else text)
            self.show_current = True
            return
        option = self.typed_option(text)
        if option is None:
            self.say(self.t("hint.not_understood"))
            self.show_current = True
            return
        self.act(option)

    def typed_option(self, text: str) -> str | None:
        pos = self.position()
        if self.user.awaiting is None and pos is not None:
            step = self.machine(pos.dialogue).dialogue.step(pos.state)
            if step is not None and step.kind == "ask" and step.ask:
                question = self.content.questions[step.ask]
                level = typed_level(text, self.content.scales[question.scale], self.locale)
                if level is not None:
                    return str(level)
        choice = typed_choice(text, self.current_choices())
        if choice is not None:
            return choice.id.split(":", 1)[1]
        return None

    def act(self, option: str) -> None:
        """Carry out an option of the current question or confirmation."""
        awaiting = self.user.awaiting
        self.show_current = True
        if awaiting is not None:
            self.record = replace(self.user, awaiting=None)
            self.on_awaited(awaiting, option)
            return
        pos = self.position()
        if pos is None:
            self.ensure_cycle()
            return
        dialogue = self.machine(pos.dialogue).dialogue
        if is_note_state(pos.state):
            self.finish_note(pos, None)
            return
        step = dialogue.step(pos.state)
        if step is None:
            return
        if step.kind == "ask":
            if option == "skip":
                self.move(pos, "skip")
            else:
                self.answer(pos, step, int(option))
        elif step.kind == "choose":
            self.choose(pos, step, option)
        elif step.kind == "summary" and step.summary == "reflection":
            self.after_reflection(pos, option)
        elif step.kind == "summary":
            self.after_summary(pos, option)

    def on_awaited(self, awaiting: str, option: str) -> None:
        feature = self.engine.feature_for(awaiting)
        if feature is not None:
            feature.act(self, awaiting, option)
            return
        if awaiting == "language":
            if option in self.content.locales:
                self.set_language(option)
        elif awaiting == "strand":
            strand = self.content.strand(option)
            if strand is not None:
                self.jump_to_strand(strand)
        elif awaiting == "restart" and option == "yes":
            self.restart_cycle()
        elif awaiting == "forget" and option == "yes":
            self.forget = True
            self.show_current = False
            self.say(self.t("forget.done"))
        elif option == "no":
            self.say(self.t("cancelled"))

    # ------------------------------------------------------------------ moves
    def move(self, pos: Position, trigger: str) -> Position:
        machine = self.machine(pos.dialogue)
        state = machine.fire(Cursor(pos.state, pos.pass_start), trigger)
        new = replace(pos, state=state, pending_level=None)
        self.set_position(new)
        return new

    def answer(self, pos: Position, step: Step, level: int) -> None:
        question = self.content.questions[step.ask or ""]
        prompt = question.prompt(level)
        if prompt is not None:
            self.say(self.prompt_text(question, prompt.get(self.locale)))
        if step.note:
            new = self.move(pos, "answer")
            self.set_position(replace(new, pending_level=level))
        else:
            self.record_answer(pos, question.id, level, None)
            self.move(pos, "answer")

    def finish_note(self, pos: Position, note: str | None) -> None:
        question_id = self.machine(pos.dialogue).dialogue.step(step_of(pos.state))
        assert question_id is not None and question_id.ask
        if note is not None and len(note) > MAX_NOTE_CHARS:
            note = note[:MAX_NOTE_CHARS]
            self.say(self.t("note.truncated", limit=MAX_NOTE_CHARS))
        elif note is not None:
            self.say(self.t("note.saved"))
        self.record_answer(pos, question_id.ask, pos.pending_level, note)
        self.move(pos, "note")

    def record_answer(self, pos: Position, question: str, level: int | None,
                      note: str | None) -> None:
        self.answers.append(Answer(self.user.key, pos.dialogue, pos.cycle, question, level,
                                   note, self.now))

    def flush_pending(self) -> None:
        """Keep an answer whose note was never written when the user moves elsewhere."""
        pos = self.user.position(CYCLE)
        if pos is not None and is_note_state(pos.state) and pos.pending_level is not None:
            step = self.machine(CYCLE).dialogue.step(step_of(pos.state))
            if step and step.ask:
                self.record_answer(pos, step.ask, pos.pending_level, None)

    def choose(self, pos: Position, step: Step, option_id: str) -> None:
        option = next((o for o in step.options if o.id == option_id), None)
        if option is None:
            return
        for key, value in option.sets:
            if key == "consent":
                self.record = replace(self.user, consent=value.lower() == "true")
            elif key == "role":
                self.record = replace(self.user, role=value)
        new = self.move(pos, f"choose:{option.id}")
        target = self.machine(pos.dialogue).dialogue.step(new.state)
        if target is not None and target.kind == "end":
            self.end_dialogue(target)

    def end_dialogue(self, step: Step) -> None:
        if step.end == "declined":
            self.forget = True
            self.show_current = False
            self.say(self.t("onboarding.declined"))
            return
        if step.end == "start_cycle":
            self.say(self.t("onboarding.done"))
            payload = self.user.start_payload
            self.record = replace(self.user, start_payload=None)
            self.ensure_cycle()
            if payload:
                self.use_start_payload(payload)

    def ensure_cycle(self) -> None:
        """Make the cycle the active dialogue, starting it the first time."""
        pos = self.user.position(CYCLE)
        if pos is None:
            start = self.content.dialogues[CYCLE].start
            pos = Position(CYCLE, start, cycle=1, pass_start=start)
        self.set_position(pos)

    def jump_to_strand(self, strand: Strand) -> None:
        entry = dict(self.content.dialogues[CYCLE].entry_points).get(strand.id)
        if entry is None:
            return
        self.flush_pending()
        self.ensure_cycle()
        pos = self.user.position(CYCLE)
        assert pos is not None
        state = self.machine(CYCLE).fire(Cursor(pos.state, pos.pass_start), f"goto:{entry}")
        summary = self.content.dialogues[CYCLE].summary_step
        if pos.state == summary:
            # Leaving the summary by a jump starts the next pass at the chosen strand.
            pos = replace(pos, cycle=pos.cycle + 1, pass_start=entry)
        elif not self.cycle_has_answers(pos):
            # Nothing answered in this pass yet: the pass starts where the user chose.
            pos = replace(pos, pass_start=entry)
        self.set_position(replace(pos, state=state, pending_level=None))
        self.show_current = True

    def restart_cycle(self) -> None:
        self.flush_pending()
        pos = self.user.position(CYCLE)
        start = self.content.dialogues[CYCLE].start
        cycle = 1
        if pos is not None:
            cycle = pos.cycle + 1 if self.cycle_has_answers(pos) else pos.cycle
        self.set_position(Position(CYCLE, start, cycle=cycle, pass_start=start))
        self.say(self.t("restarted"))

    def after_summary(self, pos: Position, option: str) -> None:
        if option == "later":
            self.say(self.t("paused_summary"))
            self.show_current = False
            return
        target = self.weakest_strand(pos) if option == "next" else option
        entry = dict(self.content.dialogues[CYCLE].entry_points).get(target or "")
        if entry is None:
            return
        state = self.machine(CYCLE).fire(Cursor(pos.state, pos.pass_start), f"goto:{entry}")
        self.set_position(replace(pos, state=state, cycle=pos.cycle + 1, pass_start=entry))

    def after_reflection(self, pos: Position, option: str) -> None:
        if option == "strand":
            strand = self.content.strand(self.weakest_strand(pos) or "")
            if strand is not None:
                self.jump_to_strand(strand)
                return
        self.say(self.t("reflect.done"))
        self.record = replace(self.user, active=CYCLE if self.user.position(CYCLE) else None)
        self.show_current = False


    def weakest_strand(self, pos: Position) -> str | None:
        levels = self.cycle_levels(pos)
        summary = summarise(self.content, levels)
        if summary.weakest is None:
            return self.content.strands[0].id
        return summary.weakest.strand

    def cycle_has_answers(self, pos: Position) -> bool:
        """True when anything (even a skip-with-note) was recorded in this pass."""
        return any(a.cycle == pos.cycle for a in self.answers) or any(
            a.cycle == pos.cycle for a in self.engine.store.answers(self.user.key, pos.dialogue))

    def cycle_levels(self, pos: Position) -> dict[str, int]:
        history = [a for a in self.engine.store.answers(self.user.key, pos.dialogue)
                   if a.cycle == pos.cycle]
        history += [a for a in self.answers if a.cycle == pos.cycle]
        return latest_levels(history)

    def use_start_payload(self, payload: str) -> bool:
        """Offer a deep-link payload to the features; True if one used it."""
        return any(f.start_payload(self, payload) for f in self.engine.features)

    def has_role(self, role: str) -> bool:
        """True when the user holds `role` (or a role above it)."""
        return self.engine.roles.has(self.user.key, role)

    def refuse(self, what: str) -> None:
        """A polite refusal for something the user's role does not allow; logged by the engine."""
        self.refused.append(what)
        self.say(self.t("refused"))
        self.show_current = True

    # ------------------------------------------------------------------ reading state
    def at_note(self) -> bool:
        pos = self.position() if self.record else None
        return pos is not None and is_note_state(pos.state) and self.user.awaiting is None

    def cycle_position_or_hint(self) -> Position | None:
        pos = self.user.position(CYCLE)
        if pos is None:
            self.say(self.t("where.not_started"))
            return None
        self.record = replace(self.user, active=CYCLE)
        return pos

    def current_step_kind(self, pos: Position) -> str:
        step = self.machine(pos.dialogue).dialogue.step(step_of(pos.state))
        return step.kind if step else ""

    def find_strand(self, name: str) -> Strand | None:
        wanted = normalise(name)
        for strand in self.content.strands:
            titles = {normalise(strand.title.get(code)) for code in strand.title.locales}
            if wanted == strand.id or wanted in titles:
                return strand
        matches = [s for s in self.content.strands
                   if s.id.startswith(wanted) or normalise(s.title.get(self.locale))
                   .startswith(wanted)]
        return matches[0] if len(matches) == 1 and wanted else None

    # ------------------------------------------------------------------ rendering
    def choice(self, option: str, label: str) -> Choice:
        return Choice(f"t{self.user.turn}:{option}", label)

    def current_choices(self) -> tuple[Choice, ...]:
        return self.render_current(emit=False)

    def render_current(self, emit: bool = True) -> tuple[Choice, ...]:
        """Say the current question (or confirmation) again; return its choices."""
        text, choices = self.current_prompt()
        if emit and text:
            self.say(text, choices)
        return choices

    def current_prompt(self) -> tuple[str, tuple[Choice, ...]]:
        awaiting = self.user.awaiting
        feature = self.engine.feature_for(awaiting) if awaiting else None
        if feature is not None and awaiting is not None:
            shown = feature.prompt(self, awaiting)
            if shown is not None:
                return shown
            # The feature no longer offers this step (e.g. content changed): drop it.
            self.record = replace(self.user, awaiting=None)
            awaiting = None
        yes, no = self.choice("yes", self.t("yes")), self.choice("no", self.t("no"))
        if awaiting == "restart":
            return self.t("restart.confirm"), (yes, no)
        if awaiting == "forget":
            return self.t("forget.confirm"), (yes, no)
        if awaiting == "language":
            return self.t("language.pick"), tuple(
                self.choice(code, name) for code, name in self.content.locale_names)
        if awaiting == "strand":
            return self.t("strand.pick"), tuple(
                self.choice(s.id, s.title.get(self.locale)) for s in self.content.strands)
        pos = self.position()
        if pos is None:
            return self.t("idle"), ()
        dialogue = self.machine(pos.dialogue).dialogue
        step = dialogue.step(step_of(pos.state))
        if step is None:
            return self.t("idle"), ()
        if step.kind == "ask" and step.ask:
            question = self.content.questions[step.ask]
            if is_note_state(pos.state):
                reflection = question.reflection.get(self.locale) if question.reflection else ""
                return (self.t("note.ask", reflection=reflection),
                        (self.choice("skip", self.t("note.skip")),))
            return self.question_text(pos, dialogue, question), self.level_choices(question)
        if step.kind == "choose" and step.choose:
            text = "\n\n".join([*(self.t(m) for m in step.say), self.t(step.choose)])
            return text, tuple(self.choice(o.id, self.t(o.label)) for o in step.options)
        if step.kind == "summary" and step.summary == "reflection":
            return summary_views.reflection_summary(self, pos)
        if step.kind == "summary":
            return summary_views.cycle_summary(self, pos)
        return self.t("idle"), ()

    def level_choices(self, question: Question) -> tuple[Choice, ...]:
        scale = self.content.scales[question.scale]
        levels = tuple(self.choice(str(lv.level), lv.label.get(self.locale))
                       for lv in scale.levels)
        return (*levels, self.choice("skip", self.t("skip")))

    def level_label(self, question_id: str, level: int) -> str:
        question = self.content.questions.get(question_id)
        scale = self.content.scales.get(question.scale) if question else None
        found = scale.level(level) if scale else None
        return found.label.get(self.locale) if found else str(level)

    def strand_title(self, strand_id: str) -> str:
        strand = self.content.strand(strand_id)
        return strand.title.get(self.locale) if strand else strand_id

    def progress_line(self, pos: Position) -> str:
        """'Cycle 2 · Delivery · 2 of 3 · step 8 of 12', or '' outside the questions."""
        machine = self.machine(pos.dialogue)
        step_id = step_of(pos.state)
        step = machine.dialogue.step(step_id)
        if step is None or step.kind != "ask" or not step.ask:
            return ""
        order = machine.steps_in_pass(pos.pass_start or machine.dialogue.start)
        if pos.dialogue != CYCLE:
            n = order.index(step_id) + 1 if step_id in order else 1
            return self.t("reflect.progress", step=n, total=len(order))
        question = self.content.questions[step.ask]
        strand = self.content.strand(question.strand)
        in_strand = [s.id for s in strand.sub_components] if strand else [step.ask]
        k = in_strand.index(step.ask) + 1 if step.ask in in_strand else 1
        n = order.index(step_id) + 1 if step_id in order else 1
        return self.t("progress", cycle=pos.cycle, strand=self.strand_title(question.strand),
                      k=k, of=len(in_strand), step=n, total=len(order))

    def question_text(self, pos: Position, dialogue: Dialogue, question: Question) -> str:
        progress = self.progress_line(pos)
        body = titled_question(self.content, question, self.locale)
        return f"{progress}\n\n{body}" if progress else body

    def prompt_text(self, question: Question, prompt: str) -> str:
        return prompt_with_evidence(self.content, question, prompt, self.locale)
