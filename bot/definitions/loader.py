"""Loads `content/` and `dialogues/` YAML into a `Content`, collecting every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeGuard, TypeVar

from bot.definitions.dialogue_parser import load_dialogues
from bot.definitions.model import (
    DEFAULT_LOCALE,
    Content,
    Level,
    LocalText,
    Prompt,
    PromptText,
    Question,
    Reference,
    Scale,
    Strand,
    SubComponent,
)
from bot.definitions.problems import Problem
from bot.definitions.reader import (
    SUBFOLDERS,
    Reader,
    Sources,
    each_file,
    folder_problem,
)
from bot.definitions.yaml_source import read_yaml

T = TypeVar("T")

REFERENCE_STATUSES = ("verified", "corrected", "unverified")


def load(content_dir: Path, dialogues_dir: Path) -> tuple[Content | None, list[Problem], Sources]:
    """Load both folders; returns the content (None when unusable), all problems, and sources."""
    problems: list[Problem] = []
    sources = Sources()
    reader = Reader(content_dir, problems)
    unreadable = folder_problem(content_dir, "content", "--content")
    for sub in SUBFOLDERS:
        unreadable = unreadable or folder_problem(content_dir / sub, "content", "--content",
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
    dialogues = load_dialogues(Reader(dialogues_dir, problems), dialogues_dir, sources)
    content = Content(strands=tuple(strands), scales=scales, questions=questions,
                      references=references, messages=messages, dialogues=dialogues,
                      locales=tuple(code for code, _ in locale_names),
                      locale_names=locale_names)
    return content, problems, sources


def _load_locales(reader: Reader, root: Path) -> tuple[tuple[str, str], ...]:
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

    return (each_file(reader, root / "locales.yaml", parse)
            or ((DEFAULT_LOCALE, "English"),))


def _load_framework(reader: Reader, root: Path, sources: Sources) -> list[Strand]:
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

    return each_file(reader, root / "framework.yaml", parse) or []


def _load_scales(reader: Reader, root: Path, sources: Sources) -> dict[str, Scale]:
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

    return each_file(reader, root / "scales.yaml", parse) or {}


def _question_files(root: Path) -> list[Path]:
    return sorted((root / "steps").glob("*.yaml")) + sorted((root / "quick").glob("*.yaml"))


def _load_questions(reader: Reader, root: Path, sources: Sources) -> dict[str, Question]:
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


def _parse_question(reader: Reader, entry: dict[str, Any], qid: str, section: str,
                    file: str, path: str) -> Question | None:
    allowed = {"scale", "question", "about", "levels", "prompts", "reflection", "references",
               "strand"}
    reader.unknown_keys(entry, allowed, file, path)
    scale = reader.string(entry, "scale", file, path)
    question = reader.text(entry, "question", file, path)
    reflection = reader.text(entry, "reflection", file, path,
                             required=section == "sub_components")
    about = reader.text(entry, "about", file, path, required=False)
    strand = reader.string(entry, "strand", file, path, required=section == "quick_questions")
    if strand is None:
        strand = qid.split(".", 1)[0]
    descriptors: list[tuple[int, LocalText]] = []
    raw_levels = reader.mapping(entry.get("levels") or {}, file, f"{path}.levels")
    for level, raw in (raw_levels or {}).items():
        if _level_number(level, reader, file, f"{path}.levels.{level}"):
            text = reader.text({"d": raw}, "d", file, f"{path}.levels.{level}")
            if text:
                descriptors.append((level, text))
    prompts: list[Prompt] = []
    raw_prompts = reader.mapping(entry.get("prompts"), file, f"{path}.prompts")
    for level, raw in (raw_prompts or {}).items():
        if _level_number(level, reader, file, f"{path}.prompts.{level}"):
            prompt = _parse_prompt(reader, raw, level, file, f"{path}.prompts.{level}")
            if prompt:
                prompts.append(prompt)
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
    return Question(qid, strand, scale, question,
                    tuple(sorted(prompts, key=lambda p: p.level)), reflection, tuple(refs),
                    about=about, descriptors=tuple(sorted(descriptors)))


def _level_number(level: Any, reader: Reader, file: str, path: str) -> TypeGuard[int]:
    if isinstance(level, int) and not isinstance(level, bool):
        return True
    reader.problem(file, path, "keys here must be level numbers", "use 1:, 2:, 3:, 4:")
    return False


def _parse_prompt(reader: Reader, raw: Any, level: int, file: str, path: str) -> Prompt | None:
    """`{title, text, personas: {frontline: {title, text}, ...}}` for one level."""
    entry = reader.mapping(raw, file, path)
    if entry is None:
        return None
    reader.unknown_keys(entry, {"title", "text", "personas"}, file, path)
    default = _prompt_text(reader, entry, file, path)
    personas: list[tuple[str, PromptText]] = []
    raw_personas = reader.mapping(entry.get("personas") or {}, file, f"{path}.personas")
    for persona, variant in (raw_personas or {}).items():
        variant_path = f"{path}.personas.{persona}"
        variant_entry = reader.mapping(variant, file, variant_path)
        if variant_entry is None:
            continue
        reader.unknown_keys(variant_entry, {"title", "text"}, file, variant_path)
        text = _prompt_text(reader, variant_entry, file, variant_path)
        if text:
            personas.append((str(persona), text))
    return Prompt(level, default, tuple(personas)) if default else None


def _prompt_text(reader: Reader, entry: dict[str, Any], file: str,
                 path: str) -> PromptText | None:
    title = reader.text(entry, "title", file, path)
    text = reader.text(entry, "text", file, path)
    return PromptText(title, text) if title and text else None


def _load_references(reader: Reader, root: Path, sources: Sources) -> dict[str, Reference]:
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
            reader.unknown_keys(entry, {"id", "authors", "year", "title", "venue", "venue_note",
                                        "url", "free_url", "status", "supports"}, file, path)
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
            free_url = reader.string(entry, "free_url", file, path, required=False)
            supports = reader.text(entry, "supports", file, path)
            venue_note = reader.text(entry, "venue_note", file, path, required=False)
            if authors and title and venue and supports:
                refs[ref_id] = Reference(ref_id, authors, year, title, venue, url, status,
                                         supports, venue_note=venue_note, free_url=free_url)
        return refs

    return each_file(reader, root / "references.yaml", parse) or {}


def _load_messages(reader: Reader, root: Path, sources: Sources) -> dict[str, LocalText]:
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

    each_file(reader, root / "messages.yaml", parse)
    for path in sorted((root / "messages").glob("*.yaml")):
        each_file(reader, path, parse)
    return messages

