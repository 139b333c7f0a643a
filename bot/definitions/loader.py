"""Loads `content/` and `dialogues/` YAML into a validated `Content`, collecting every problem."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from bot.definitions.model import (
    DEFAULT_LOCALE,
    Content,
    Dialogue,
    Level,
    LocalText,
    Option,
    Question,
    Reference,
    Scale,
    Step,
    Strand,
    SubComponent,
)
from bot.definitions.problems import ContentError, Problem
from bot.definitions.yaml_source import read_yaml

T = TypeVar("T")

REFERENCE_STATUSES = ("verified", "corrected", "unverified")


class _Reader:
    """Walks parsed YAML with the file name and key path at hand, recording problems."""

    def __init__(self, root: Path, problems: list[Problem]) -> None:
        self.root = root
        self.problems = problems

    def label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def problem(self, file: str, path: str, message: str, hint: str = "",
                warning: bool = False) -> None:
        self.problems.append(Problem(file, path, message, hint, warning))

    def mapping(self, value: Any, file: str, path: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(file, path, f"expected a mapping (key: value), found {_kind(value)}",
                     "indent the keys under this one")
        return None

    def sequence(self, value: Any, file: str, path: str) -> list[Any] | None:
        if isinstance(value, list):
            return value
        self.problem(file, path, f"expected a list, found {_kind(value)}",
                     "write each item on its own line starting with '- '")
        return None

    def string(self, data: dict[str, Any], key: str, file: str, path: str,
               required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(file, _join(path, key), "missing", f"add '{key}: ...'")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.problem(file, _join(path, key), f"expected text, found {_kind(value)}",
                         "write it as a quoted string")
            return None
        return str(value)

    def text(self, data: dict[str, Any], key: str, file: str, path: str,
             required: bool = True) -> LocalText | None:
        value = data.get(key)
        where = _join(path, key)
        if value is None:
            if required:
                self.problem(file, where, "missing", f"add '{key}: {{{DEFAULT_LOCALE}: "
                             "\"...\"}' with one entry per locale")
            return None
        if isinstance(value, str):
            self.problem(file, where, "text must be given per locale",
                         f"write '{key}: {{{DEFAULT_LOCALE}: \"{_short(value)}\"}}'")
            return None
        mapping = self.mapping(value, file, where)
        if mapping is None:
            return None
        pairs: list[tuple[str, str]] = []
        for code, text in mapping.items():
            if not isinstance(text, str) or not text.strip():
                self.problem(file, _join(where, str(code)), "empty or not text",
                             "write the text in quotes, or remove this locale")
                continue
            pairs.append((str(code), text.strip()))
        if not pairs:
            return None
        return LocalText(tuple(pairs))

    def unknown_keys(self, data: dict[str, Any], allowed: set[str], file: str, path: str) -> None:
        for key in data:
            if key not in allowed:
                self.problem(file, _join(path, str(key)), f"unknown key '{key}'",
                             f"allowed keys here: {', '.join(sorted(allowed))}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _short(text: str) -> str:
    return text if len(text) < 30 else text[:27] + "..."


class Sources:
    """Where each id was defined, so later checks can point at the right file and key."""

    def __init__(self) -> None:
        self.places: dict[str, tuple[str, str]] = {}

    def add(self, kind: str, ident: str, file: str, path: str) -> None:
        self.places[f"{kind}:{ident}"] = (file, path)

    def get(self, kind: str, ident: str) -> tuple[str, str]:
        return self.places.get(f"{kind}:{ident}", ("?", ident))


def load(content_dir: Path, dialogues_dir: Path) -> tuple[Content | None, list[Problem], Sources]:
    """Load both folders; returns the content (None when unusable), all problems, and sources."""
    problems: list[Problem] = []
    sources = Sources()
    reader = _Reader(content_dir, problems)
    unreadable = _folder_problem(content_dir, "content", "--content")
    for sub in _SUBFOLDERS:
        unreadable = unreadable or _folder_problem(content_dir / sub, "content", "--content",
                                                   optional=True)
    if unreadable:
        problems.append(unreadable)
        return None, problems, sources
    locale_names = _load_locales(reader, content_dir)
    strands = _load_framework(reader, content_dir, sources)
    scales = _load_scales(reader, content_dir, sources)
    questions = _load_questions(reader, content_dir, sources)
    references = _load_references(reader, content_dir, sources)
    messages = _load_messages(reader, content_dir, sources)
    dialogues = _load_dialogues(_Reader(dialogues_dir, problems), dialogues_dir, sources)
    content = Content(strands=tuple(strands), scales=scales, questions=questions,
                      references=references, messages=messages, dialogues=dialogues,
                      locales=tuple(code for code, _ in locale_names),
                      locale_names=locale_names)
    return content, problems, sources


_SUBFOLDERS = ("steps", "quick", "messages")


def _folder_problem(folder: Path, what: str, flag: str, optional: bool = False) -> Problem | None:
    """Why `folder` cannot be read, or None; an `optional` folder may also be missing."""
    try:
        if not folder.is_dir():
            if optional and not folder.exists():
                return None
            state = "is a file, not a folder" if folder.exists() else "not found"
            return Problem(str(folder), "", f"{what} folder {state}",
                           f"pass {flag} DIR or run from the project folder")
        os.listdir(folder)  # reading its names needs r
        os.stat(folder / ".")  # opening the files in it needs x
    except OSError as exc:
        # A traceback, before: Path.exists() raises PermissionError in a folder without x.
        return Problem(str(folder), "", f"cannot read the {what} folder ({exc.strerror})",
                       "let the user running ccbot read it and the files in it, "
                       "e.g. chmod -R u+rX on the folder")
    return None


def load_content(content_dir: Path, dialogues_dir: Path,
                 required_messages: Iterable[str] = ()) -> Content:
    """Load and fully validate; raise ContentError listing every problem if there is one."""
    from bot.definitions.validation import validate_loaded

    content, problems, sources = load(content_dir, dialogues_dir)
    if content is not None:
        problems.extend(validate_loaded(content, sources, required_messages))
    if content is None or any(not p.warning for p in problems):
        raise ContentError(problems)
    return content


def _each_file(reader: _Reader, path: Path, parse: Callable[[Any, str], T]) -> T | None:
    label = reader.label(path)
    if not path.exists():
        reader.problem(label, "", "file not found", "create it (see docs/CONTENT.md)")
        return None
    data = read_yaml(path, label, reader.problems)
    if data is None:
        return None
    return parse(data, label)


def _load_locales(reader: _Reader, root: Path) -> tuple[tuple[str, str], ...]:
    """(code, name in that language) for each locale, English first."""
    def parse(data: Any, file: str) -> tuple[tuple[str, str], ...]:
        top = reader.mapping(data, file, "")
        items = reader.sequence(top.get("locales"), file, "locales") if top else None
        found: list[tuple[str, str]] = []
        for i, item in enumerate(items or []):
            entry = reader.mapping(item, file, f"locales[{i}]")
            code = reader.string(entry, "code", file, f"locales[{i}]") if entry else None
            if entry is None or code is None:
                continue
            name = reader.string(entry, "name", file, f"locales.{code}") or code
            if any(c == code for c, _ in found):
                reader.problem(file, f"locales.{code}", f"locale '{code}' is listed twice",
                               "list each locale once")
            found.append((code, name))
        if all(code != DEFAULT_LOCALE for code, _ in found):
            reader.problem(file, "locales", f"the default locale '{DEFAULT_LOCALE}' is missing",
                           f"add '- {{code: {DEFAULT_LOCALE}, name: English}}'")
            found.insert(0, (DEFAULT_LOCALE, "English"))
        return tuple(found)

    return (_each_file(reader, root / "locales.yaml", parse)
            or ((DEFAULT_LOCALE, "English"),))


def _load_framework(reader: _Reader, root: Path, sources: Sources) -> list[Strand]:
    def parse(data: Any, file: str) -> list[Strand]:
        top = reader.mapping(data, file, "")
        items = reader.sequence(top.get("strands"), file, "strands") if top else None
        strands: list[Strand] = []
        for i, item in enumerate(items or []):
            path = f"strands[{i}]"
            entry = reader.mapping(item, file, path)
            if entry is None:
                continue
            reader.unknown_keys(entry, {"id", "title", "description", "sub_components"}, file, path)
            strand_id = reader.string(entry, "id", file, path)
            if strand_id is None:
                continue
            path = f"strands.{strand_id}"
            if f"strand:{strand_id}" in sources.places:
                reader.problem(file, path, f"duplicate strand id '{strand_id}'",
                               "each strand id must be unique")
            sources.add("strand", strand_id, file, path)
            subs: list[SubComponent] = []
            for j, sub_item in enumerate(reader.sequence(entry.get("sub_components"), file,
                                                         f"{path}.sub_components") or []):
                sub_path = f"{path}.sub_components[{j}]"
                sub = reader.mapping(sub_item, file, sub_path)
                if sub is None:
                    continue
                reader.unknown_keys(sub, {"id", "title", "description"}, file, sub_path)
                sub_id = reader.string(sub, "id", file, sub_path)
                if sub_id is None:
                    continue
                full = f"{strand_id}.{sub_id}"
                sub_path = f"{path}.sub_components.{sub_id}"
                if f"sub:{full}" in sources.places:
                    reader.problem(file, sub_path, f"duplicate sub-component id '{full}'",
                                   "each sub-component id must be unique within its strand")
                sources.add("sub", full, file, sub_path)
                title = reader.text(sub, "title", file, sub_path)
                desc = reader.text(sub, "description", file, sub_path)
                if title and desc:
                    subs.append(SubComponent(full, strand_id, title, desc))
            title = reader.text(entry, "title", file, path)
            desc = reader.text(entry, "description", file, path)
            if title and desc:
                strands.append(Strand(strand_id, title, desc, tuple(subs)))
        return strands

    return _each_file(reader, root / "framework.yaml", parse) or []


def _load_scales(reader: _Reader, root: Path, sources: Sources) -> dict[str, Scale]:
    def parse(data: Any, file: str) -> dict[str, Scale]:
        top = reader.mapping(data, file, "")
        scales: dict[str, Scale] = {}
        for i, item in enumerate(reader.sequence(top.get("scales"), file, "scales") or []
                                 if top else []):
            entry = reader.mapping(item, file, f"scales[{i}]")
            scale_id = reader.string(entry, "id", file, f"scales[{i}]") if entry else None
            if entry is None or scale_id is None:
                continue
            path = f"scales.{scale_id}"
            if scale_id in scales:
                reader.problem(file, path, f"duplicate scale id '{scale_id}'",
                               "rename one of them")
            sources.add("scale", scale_id, file, path)
            levels: list[Level] = []
            for j, lv_item in enumerate(reader.sequence(entry.get("levels"), file,
                                                        f"{path}.levels") or []):
                lv = reader.mapping(lv_item, file, f"{path}.levels[{j}]")
                if lv is None:
                    continue
                reader.unknown_keys(lv, {"level", "label", "aliases"}, file, f"{path}.levels[{j}]")
                number = lv.get("level")
                if not isinstance(number, int) or isinstance(number, bool):
                    reader.problem(file, f"{path}.levels[{j}].level", "must be a whole number",
                                   "number the levels 1, 2, 3, ...")
                    continue
                label = reader.text(lv, "label", file, f"{path}.levels.{number}")
                aliases: list[tuple[str, tuple[str, ...]]] = []
                raw_aliases = lv.get("aliases") or {}
                alias_map = reader.mapping(raw_aliases, file, f"{path}.levels.{number}.aliases")
                for code, words in (alias_map or {}).items():
                    word_list = reader.sequence(words, file,
                                                f"{path}.levels.{number}.aliases.{code}")
                    if word_list is not None:
                        aliases.append((str(code), tuple(str(w).strip() for w in word_list)))
                if label:
                    levels.append(Level(number, label, tuple(aliases)))
            scales[scale_id] = Scale(scale_id, tuple(sorted(levels, key=lambda lv: lv.level)))
        return scales

    return _each_file(reader, root / "scales.yaml", parse) or {}


def _question_files(root: Path) -> list[Path]:
    return sorted((root / "steps").glob("*.yaml")) + sorted((root / "quick").glob("*.yaml"))


def _load_questions(reader: _Reader, root: Path, sources: Sources) -> dict[str, Question]:
    questions: dict[str, Question] = {}
    files = _question_files(root)
    if not files:
        reader.problem(reader.label(root / "steps"), "", "no question files found",
                       "add one YAML file per strand under content/steps/")
    for path in files:
        file = reader.label(path)
        data = read_yaml(path, file, reader.problems)
        top = reader.mapping(data, file, "") if data is not None else None
        if top is None:
            continue
        reader.unknown_keys(top, {"sub_components", "quick_questions"}, file, "")
        for section in ("sub_components", "quick_questions"):
            block = top.get(section)
            if block is None:
                continue
            entries = reader.mapping(block, file, section) or {}
            for qid, raw in entries.items():
                qpath = f"{section}.{qid}"
                entry = reader.mapping(raw, file, qpath)
                if entry is None:
                    continue
                if qid in questions:
                    reader.problem(file, qpath, f"duplicate question id '{qid}'",
                                   "each sub-component has its questions in one place only")
                sources.add("question", str(qid), file, qpath)
                question = _parse_question(reader, entry, str(qid), section, file, qpath)
                if question:
                    questions[str(qid)] = question
    return questions


def _parse_question(reader: _Reader, entry: dict[str, Any], qid: str, section: str,
                    file: str, path: str) -> Question | None:
    allowed = {"scale", "question", "prompts", "reflection", "references", "strand"}
    reader.unknown_keys(entry, allowed, file, path)
    scale = reader.string(entry, "scale", file, path)
    question = reader.text(entry, "question", file, path)
    reflection = reader.text(entry, "reflection", file, path,
                             required=section == "sub_components")
    strand = reader.string(entry, "strand", file, path, required=section == "quick_questions")
    if strand is None:
        strand = qid.split(".", 1)[0]
    prompts: list[tuple[int, LocalText]] = []
    raw_prompts = reader.mapping(entry.get("prompts"), file, f"{path}.prompts")
    for level, raw in (raw_prompts or {}).items():
        if not isinstance(level, int) or isinstance(level, bool):
            reader.problem(file, f"{path}.prompts.{level}", "prompt keys must be level numbers",
                           "use 1:, 2:, 3:, 4:")
            continue
        text = reader.text({"p": raw}, "p", file, f"{path}.prompts.{level}")
        if text:
            prompts.append((level, text))
    refs_raw = entry.get("references")
    refs: list[str] = []
    ref_list = reader.sequence(refs_raw, file, f"{path}.references") if refs_raw is not None \
        else None
    if refs_raw is None:
        reader.problem(file, f"{path}.references", "missing",
                       "add 'references: [id]' with 1-3 ids from content/references.yaml")
    for ref in ref_list or []:
        refs.append(str(ref))
    if scale is None or question is None:
        return None
    return Question(qid, strand, scale, question, tuple(sorted(prompts)), reflection, tuple(refs))


def _load_references(reader: _Reader, root: Path, sources: Sources) -> dict[str, Reference]:
    def parse(data: Any, file: str) -> dict[str, Reference]:
        top = reader.mapping(data, file, "")
        refs: dict[str, Reference] = {}
        for i, item in enumerate(reader.sequence(top.get("references"), file, "references") or []
                                 if top else []):
            entry = reader.mapping(item, file, f"references[{i}]")
            ref_id = reader.string(entry, "id", file, f"references[{i}]") if entry else None
            if entry is None or ref_id is None:
                continue
            path = f"references.{ref_id}"
            reader.unknown_keys(entry, {"id", "authors", "year", "title", "venue", "url",
                                        "status", "supports"}, file, path)
            if ref_id in refs:
                reader.problem(file, path, f"duplicate reference id '{ref_id}'",
                               "keep one entry per reference")
            sources.add("reference", ref_id, file, path)
            authors = reader.string(entry, "authors", file, path)
            title = reader.string(entry, "title", file, path)
            venue = reader.string(entry, "venue", file, path)
            year = entry.get("year")
            if not isinstance(year, int) or isinstance(year, bool):
                reader.problem(file, f"{path}.year", "year must be a number", "e.g. year: 2007")
                continue
            status = reader.string(entry, "status", file, path) or "unverified"
            if status not in REFERENCE_STATUSES:
                reader.problem(file, f"{path}.status", f"unknown status '{status}'",
                               f"use one of: {', '.join(REFERENCE_STATUSES)}")
            url = reader.string(entry, "url", file, path, required=False)
            supports = reader.text(entry, "supports", file, path)
            if authors and title and venue and supports:
                refs[ref_id] = Reference(ref_id, authors, year, title, venue, url, status,
                                         supports)
        return refs

    return _each_file(reader, root / "references.yaml", parse) or {}


def _load_messages(reader: _Reader, root: Path, sources: Sources) -> dict[str, LocalText]:
    """content/messages.yaml, then one file per feature under content/messages/."""
    messages: dict[str, LocalText] = {}

    def parse(data: Any, file: str) -> dict[str, LocalText]:
        top = reader.mapping(data, file, "")
        block = reader.mapping(top.get("messages"), file, "messages") if top else None
        for key, value in (block or {}).items():
            if f"message:{key}" in sources.places:
                first = sources.get("message", str(key))[0]
                reader.problem(file, f"messages.{key}", f"message '{key}' is also in {first}",
                               "keep each message id in one file")
            sources.add("message", str(key), file, f"messages.{key}")
            text = reader.text({"m": value}, "m", file, f"messages.{key}")
            if text:
                messages[str(key)] = text
        return messages

    _each_file(reader, root / "messages.yaml", parse)
    for path in sorted((root / "messages").glob("*.yaml")):
        _each_file(reader, path, parse)
    return messages


def _load_dialogues(reader: _Reader, root: Path, sources: Sources) -> dict[str, Dialogue]:
    dialogues: dict[str, Dialogue] = {}
    problem = _folder_problem(root, "dialogues", "--dialogues")
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


def _parse_dialogue(reader: _Reader, top: dict[str, Any], file: str,
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


def _parse_step(reader: _Reader, entry: dict[str, Any], step_id: str, file: str,
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


__all__ = ["ContentError", "Problem", "load", "load_content"]
