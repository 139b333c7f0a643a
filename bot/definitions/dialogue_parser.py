"""Parses `dialogues/*.yaml` into Dialogues: steps and moves that refer to content by id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.definitions.model import Dialogue, Option, Step
from bot.definitions.reader import Reader, Sources, folder_problem
from bot.definitions.yaml_source import read_yaml


def load_dialogues(reader: Reader, root: Path, sources: Sources) -> dict[str, Dialogue]:
    """Every dialogue file in `root`, by dialogue id; problems go to the reader."""
    dialogues: dict[str, Dialogue] = {}
    problem = folder_problem(root, "dialogues", "--dialogues")
    if problem is not None:
        reader.problems.append(problem)
        return dialogues
    for path in sorted(root.glob("*.yaml")):
        file = reader.label(path)
        data = read_yaml(path, file, reader.problems)
        top = reader.mapping(data, file, "") if data is not None else None
        if top is None:
            continue
        dialogue = _parse_dialogue(reader, top, file, sources)
        if dialogue is None:
            continue
        if dialogue.id in dialogues:
            reader.problem(file, "id", f"duplicate dialogue id '{dialogue.id}'",
                           "each dialogue file needs its own id")
        dialogues[dialogue.id] = dialogue
    return dialogues


def _parse_dialogue(reader: Reader, top: dict[str, Any], file: str,
                    sources: Sources) -> Dialogue | None:
    reader.unknown_keys(top, {"id", "description", "start", "ring", "summary", "entry_points",
                              "steps"}, file, "")
    dialogue_id = reader.string(top, "id", file, "")
    start = reader.string(top, "start", file, "")
    if dialogue_id is None or start is None:
        return None
    sources.add("dialogue", dialogue_id, file, "")
    steps: list[Step] = []
    seen: set[str] = set()
    for i, item in enumerate(reader.sequence(top.get("steps"), file, "steps") or []):
        entry = reader.mapping(item, file, f"steps[{i}]")
        step_id = reader.string(entry, "id", file, f"steps[{i}]") if entry else None
        if entry is None or step_id is None:
            continue
        path = f"steps.{step_id}"
        if step_id in seen:
            reader.problem(file, path, f"duplicate step id '{step_id}'", "rename one of them")
        seen.add(step_id)
        sources.add(f"step:{dialogue_id}", step_id, file, path)
        step = _parse_step(reader, entry, step_id, file, path)
        if step:
            steps.append(step)
    entry_points: list[tuple[str, str]] = []
    raw_entries = top.get("entry_points")
    if raw_entries is not None:
        for key, value in (reader.mapping(raw_entries, file, "entry_points") or {}).items():
            entry_points.append((str(key), str(value)))
    ring = top.get("ring", False)
    if not isinstance(ring, bool):
        reader.problem(file, "ring", "must be true or false", "write 'ring: true'")
        ring = False
    summary = reader.string(top, "summary", file, "", required=False)
    return Dialogue(dialogue_id, start, tuple(steps), ring, summary, tuple(entry_points))


def _parse_step(reader: Reader, entry: dict[str, Any], step_id: str, file: str,
                path: str) -> Step | None:
    reader.unknown_keys(entry, {"id", "ask", "note", "next", "choose", "say", "options",
                                "summary", "end"}, file, path)
    kinds = [k for k in ("ask", "choose", "summary", "end") if entry.get(k)]
    if len(kinds) != 1:
        reader.problem(file, path, "a step needs exactly one of ask, choose, summary, end"
                       + (f" (found {', '.join(kinds)})" if kinds else ""),
                       "ask: <question id> | choose: <message id> | summary: <kind> | end: <kind>")
        return None
    say_raw = entry.get("say")
    say: tuple[str, ...] = ()
    if say_raw is not None:
        say = tuple(str(s) for s in reader.sequence(say_raw, file, f"{path}.say") or [])
    options: list[Option] = []
    if entry.get("choose"):
        for j, raw in enumerate(reader.sequence(entry.get("options"), file,
                                                f"{path}.options") or []):
            opt = reader.mapping(raw, file, f"{path}.options[{j}]")
            if opt is None:
                continue
            reader.unknown_keys(opt, {"id", "label", "next", "set"}, file, f"{path}.options[{j}]")
            oid = reader.string(opt, "id", file, f"{path}.options[{j}]")
            label = reader.string(opt, "label", file, f"{path}.options.{oid}")
            nxt = reader.string(opt, "next", file, f"{path}.options.{oid}")
            sets = tuple((str(k), str(v)) for k, v in
                         (reader.mapping(opt.get("set") or {}, file,
                                         f"{path}.options.{oid}.set") or {}).items())
            if oid and label and nxt:
                options.append(Option(oid, label, nxt, sets))
    note = entry.get("note", True)
    if not isinstance(note, bool):
        reader.problem(file, f"{path}.note", "must be true or false", "write 'note: false'")
        note = True
    return Step(
        id=step_id,
        next=reader.string(entry, "next", file, path, required=False),
        ask=reader.string(entry, "ask", file, path, required=False),
        choose=reader.string(entry, "choose", file, path, required=False),
        say=say,
        options=tuple(options),
        summary=reader.string(entry, "summary", file, path, required=False),
        end=reader.string(entry, "end", file, path, required=False),
        note=note,
    )

