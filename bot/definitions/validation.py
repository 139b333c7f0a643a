"""Cross-checks on loaded content and dialogues: ids, reachability, lengths, locales, evidence."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bot.definitions.loader import load
from bot.definitions.model import (
    DEFAULT_LOCALE,
    PERSONAS,
    Content,
    Dialogue,
    LocalText,
    Question,
)
from bot.definitions.problems import Problem
from bot.definitions.reader import Sources

# Phone-first limits (DESIGN.md §2): one idea per message, short enough to read between visits.
MAX_QUESTION = 200
MAX_PROMPT = 300
MAX_ACTION_TITLE = 60
MAX_DESCRIPTOR = 160
MAX_ABOUT = 400
MAX_REFLECTION = 200
MAX_DESCRIPTION = 160
MAX_LABEL = 24
MAX_TITLE = 40
MAX_MESSAGE = 1500
MIN_REFERENCES, MAX_REFERENCES = 1, 3
EVIDENCE_STATUSES = ("verified", "corrected")
SUMMARY_KINDS = ("cycle", "reflection")
END_KINDS = ("start_cycle", "declined", "done")

_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def validate(content_dir: Path, dialogues_dir: Path,
             required_messages: Iterable[str] = ()) -> list[Problem]:
    """Every problem in both folders, errors and warnings."""
    content, problems, sources = load(content_dir, dialogues_dir)
    if content is not None:
        problems.extend(validate_loaded(content, sources, required_messages))
    return problems


def validate_loaded(content: Content, sources: Sources,
                    required_messages: Iterable[str] = ()) -> list[Problem]:
    """Cross-reference checks on content that parsed."""
    problems: list[Problem] = []
    problems.extend(_check_framework(content, sources))
    problems.extend(_check_questions(content, sources))
    problems.extend(_check_scales(content, sources))
    problems.extend(_check_references(content, sources))
    problems.extend(_check_messages(content, sources, required_messages))
    for dialogue in content.dialogues.values():
        problems.extend(_check_dialogue(content, dialogue, sources))
    problems.extend(_check_texts(content, sources))
    return problems


def _check_framework(content: Content, sources: Sources) -> Iterator[Problem]:
    if not content.strands:
        yield Problem("content/framework.yaml", "strands", "no strands defined",
                      "list the strands in cycle order")
    for sub in content.sub_components:
        if sub.id not in content.questions:
            file, path = sources.get("sub", sub.id)
            yield Problem(file, path, f"sub-component '{sub.id}' has no question",
                          f"add '{sub.id}:' under sub_components in content/steps/"
                          f"{sub.strand}.yaml")


def _check_questions(content: Content, sources: Sources) -> Iterator[Problem]:
    for question in content.questions.values():
        file, path = sources.get("question", question.id)
        is_quick = path.startswith("quick_questions")
        if not is_quick and content.sub_component(question.id) is None:
            known = ", ".join(s.id for s in content.sub_components)
            yield Problem(file, path, f"unknown sub-component '{question.id}'",
                          f"use one of the ids from content/framework.yaml: {known}")
        if content.strand(question.strand) is None:
            yield Problem(file, f"{path}.strand", f"unknown strand '{question.strand}'",
                          "use a strand id from content/framework.yaml")
        scale = content.scales.get(question.scale)
        if scale is None:
            yield Problem(file, f"{path}.scale", f"unknown scale '{question.scale}'",
                          f"use one of: {', '.join(content.scales) or '(none defined)'}")
        else:
            levels = {lv.level for lv in scale.levels}
            given = {p.level for p in question.prompts}
            yield from _check_descriptors(question, levels, file, path, is_quick)
            for missing in sorted(levels - given):
                yield Problem(file, f"{path}.prompts.{missing}",
                              f"missing the prompt for level {missing}",
                              "every level of the scale needs its own tailored prompt")
            for extra in sorted(given - levels):
                yield Problem(file, f"{path}.prompts.{extra}",
                              f"level {extra} is not on the scale '{scale.id}'",
                              f"use levels {', '.join(map(str, sorted(levels)))}")
        yield from _check_prompts_differ(question, file, path)
        yield from _check_personas(question, file, path)
        yield from _check_question_references(content, question, file, path)


def _check_descriptors(question: Question, levels: set[int], file: str, path: str,
                       is_quick: bool) -> Iterator[Problem]:
    given = {lv for lv, _ in question.descriptors}
    if not given and is_quick:
        return  # a quick question borrows its strand's meaning; descriptors are optional there
    for missing in sorted(levels - given):
        yield Problem(file, f"{path}.levels.{missing}",
                      f"missing the descriptor for level {missing}",
                      "say in one line what this level looks like in practice, so two people "
                      "in the same situation choose the same level")
    for extra in sorted(given - levels):
        yield Problem(file, f"{path}.levels.{extra}", f"level {extra} is not on the scale",
                      f"use levels {', '.join(map(str, sorted(levels)))}")


def _check_personas(question: Question, file: str, path: str) -> Iterator[Problem]:
    for prompt in question.prompts:
        for persona, _ in prompt.personas:
            if persona not in PERSONAS:
                yield Problem(file, f"{path}.prompts.{prompt.level}.personas.{persona}",
                              f"unknown persona '{persona}'",
                              f"use one of: {', '.join(PERSONAS)}")


def _check_prompts_differ(question: Question, file: str, path: str) -> Iterator[Problem]:
    seen: dict[tuple[str, str], int] = {}
    for prompt in question.prompts:
        level, text = prompt.level, prompt.text
        for locale, value in text.values:
            key = (locale, " ".join(value.split()).casefold())
            if key in seen:
                yield Problem(file, f"{path}.prompts.{level}.{locale}",
                              f"the prompt for level {level} is identical to level {seen[key]}",
                              "write a prompt tailored to this level")
            else:
                seen[key] = level


def _check_question_references(content: Content, question: Question, file: str,
                               path: str) -> Iterator[Problem]:
    count = len(question.references)
    if not MIN_REFERENCES <= count <= MAX_REFERENCES and path.startswith("sub_components"):
        yield Problem(file, f"{path}.references",
                      f"{count} references; each sub-component needs "
                      f"{MIN_REFERENCES} to {MAX_REFERENCES}",
                      "list the most relevant evidence first")
    if len(set(question.references)) != count:
        yield Problem(file, f"{path}.references", "a reference is listed twice",
                      "list each reference once")
    for ref_id in question.references:
        ref = content.references.get(ref_id)
        if ref is None:
            yield Problem(file, f"{path}.references", f"reference '{ref_id}' is not in the library",
                          "add it to content/references.yaml (only if its details are "
                          "verified) or use an existing id")
        elif ref.status not in EVIDENCE_STATUSES:
            yield Problem(file, f"{path}.references",
                          f"reference '{ref_id}' is {ref.status} and cannot be shown as evidence",
                          "cite a verified reference; confirm author, year, title and venue "
                          "before changing its status")


def _check_scales(content: Content, sources: Sources) -> Iterator[Problem]:
    for scale in content.scales.values():
        file, path = sources.get("scale", scale.id)
        if len(scale.levels) < 2:
            yield Problem(file, path, "a scale needs at least two levels", "add levels")
        for locale in content.locales:
            owner: dict[str, int] = {}
            for level in scale.levels:
                for word in level.words(locale):
                    if word.isdigit():
                        yield Problem(file, f"{path}.levels.{level.level}.aliases.{locale}",
                                      f"'{word}' is a number; numbers already pick levels",
                                      "remove it")
                    elif word in owner and owner[word] != level.level:
                        yield Problem(file, f"{path}.levels.{level.level}.aliases.{locale}",
                                      f"'{word}' also selects level {owner[word]}",
                                      "a typed word must pick exactly one level")
                    owner.setdefault(word, level.level)


def _check_references(content: Content, sources: Sources) -> Iterator[Problem]:
    used = {ref for q in content.questions.values() for ref in q.references}
    for ref in content.references.values():
        if ref.id not in used:
            file, path = sources.get("reference", ref.id)
            yield Problem(file, path, f"reference '{ref.id}' is used by no question",
                          "cite it from a question, or leave it as library background",
                          warning=True)
        for key, link in (("url", ref.url), ("free_url", ref.free_url)):
            if link is not None and not link.startswith(("https://", "http://")):
                file, path = sources.get("reference", ref.id)
                yield Problem(file, f"{path}.{key}", f"'{link}' is not a link",
                              "give a full https:// URL or DOI link, or null")
        if ref.id in used and ref.url is None and ref.free_url is None:
            file, path = sources.get("reference", ref.id)
            yield Problem(file, path, f"reference '{ref.id}' is cited but has no link",
                          "add a url or free_url from shared/vetted-references.yaml if one "
                          "exists; users cannot look it up otherwise", warning=True)


def _check_messages(content: Content, sources: Sources,
                    required: Iterable[str]) -> Iterator[Problem]:
    for message_id in required:
        if message_id not in content.messages:
            yield Problem("content/messages.yaml", f"messages.{message_id}",
                          f"message '{message_id}' is used by the bot but not defined",
                          f"add 'messages.{message_id}: {{en: \"...\"}}'")


def _check_dialogue(content: Content, dialogue: Dialogue, sources: Sources) -> Iterator[Problem]:
    file, _ = sources.get("dialogue", dialogue.id)
    ids = {s.id for s in dialogue.steps}

    def where(step_id: str) -> str:
        return sources.get(f"step:{dialogue.id}", step_id)[1]

    if dialogue.start not in ids:
        yield Problem(file, "start", f"start step '{dialogue.start}' does not exist",
                      f"use one of: {', '.join(sorted(ids))}")
    if dialogue.summary_step and dialogue.summary_step not in ids:
        yield Problem(file, "summary", f"summary step '{dialogue.summary_step}' does not exist",
                      "name a step with 'summary:'")
    if dialogue.ring and not dialogue.summary_step:
        yield Problem(file, "summary", "a ring dialogue needs a summary step",
                      "add 'summary: <step id>' naming the step shown after a full pass")
    for key, target in dialogue.entry_points:
        if target not in ids:
            yield Problem(file, f"entry_points.{key}", f"step '{target}' does not exist",
                          "point each entry at an ask step")
        if content.strand(key) is None:
            yield Problem(file, f"entry_points.{key}", f"'{key}' is not a strand id",
                          "entry points are keyed by strand id")
    for step in dialogue.steps:
        path = where(step.id)
        targets = [step.next] if step.next else []
        targets += [o.next for o in step.options]
        for target in targets:
            if target not in ids:
                yield Problem(file, f"{path}.next", f"unknown step '{target}'",
                              f"use one of: {', '.join(sorted(ids))}")
        if step.kind != "end" and not targets:
            yield Problem(file, path, f"step '{step.id}' is a dead end: it leads nowhere",
                          "add 'next: <step id>', or make it an 'end:' step")
        if step.kind == "end" and step.end not in END_KINDS:
            yield Problem(file, f"{path}.end", f"unknown end '{step.end}'",
                          f"use one of: {', '.join(END_KINDS)}")
        if step.kind == "summary" and step.summary not in SUMMARY_KINDS:
            yield Problem(file, f"{path}.summary", f"unknown summary '{step.summary}'",
                          f"use one of: {', '.join(SUMMARY_KINDS)}")
        if step.ask and step.ask not in content.questions:
            yield Problem(file, f"{path}.ask", f"unknown question '{step.ask}'",
                          "use a sub-component id such as 'outcomes.insight' or a quick "
                          "question id from content/quick/")
        if step.choose and not step.options:
            yield Problem(file, f"{path}.options", "a choose step needs options",
                          "add 'options:' with id, label and next")
        for message_id in (step.choose, *step.say, *(o.label for o in step.options)):
            if message_id and message_id not in content.messages:
                yield Problem(file, path, f"unknown message '{message_id}'",
                              "add it to content/messages.yaml or fix the id")
    yield from _check_reachable(dialogue, file, where)


def _check_reachable(dialogue: Dialogue, file: str,
                     where: Callable[[str], str]) -> Iterator[Problem]:
    reached: set[str] = set()
    todo = [dialogue.start, *(target for _, target in dialogue.entry_points)]
    if dialogue.summary_step and dialogue.ring:
        todo.append(dialogue.summary_step)
    while todo:
        step_id = todo.pop()
        step = dialogue.step(step_id)
        if step is None or step_id in reached:
            continue
        reached.add(step_id)
        todo.extend(t for t in [step.next, *(o.next for o in step.options)] if t)
    for step in dialogue.steps:
        if step.id not in reached:
            yield Problem(file, where(step.id), f"step '{step.id}' is unreachable",
                          "point a 'next' at it from another step, or remove it")


def _all_texts(content: Content, sources: Sources) -> Iterator[tuple[str, str, LocalText, int]]:
    """Every user-facing text with its file, key path and length limit."""
    for strand in content.strands:
        file, path = sources.get("strand", strand.id)
        yield file, f"{path}.title", strand.title, MAX_LABEL
        yield file, f"{path}.description", strand.description, MAX_DESCRIPTION
        for sub in strand.sub_components:
            file, path = sources.get("sub", sub.id)
            yield file, f"{path}.title", sub.title, MAX_TITLE
            yield file, f"{path}.description", sub.description, MAX_DESCRIPTION
    for scale in content.scales.values():
        file, path = sources.get("scale", scale.id)
        for level in scale.levels:
            yield file, f"{path}.levels.{level.level}.label", level.label, MAX_LABEL
    for question in content.questions.values():
        file, path = sources.get("question", question.id)
        yield file, f"{path}.question", question.question, MAX_QUESTION
        if question.about:
            yield file, f"{path}.about", question.about, MAX_ABOUT
        for number, descriptor in question.descriptors:
            yield file, f"{path}.levels.{number}", descriptor, MAX_DESCRIPTOR
        for prompt in question.prompts:
            where = f"{path}.prompts.{prompt.level}"
            variants = [(where, prompt.default)] + [
                (f"{where}.personas.{persona}", variant) for persona, variant in prompt.personas]
            for place, variant in variants:
                yield file, f"{place}.title", variant.title, MAX_ACTION_TITLE
                yield file, f"{place}.text", variant.text, MAX_PROMPT
        if question.reflection:
            yield file, f"{path}.reflection", question.reflection, MAX_REFLECTION
    for ref in content.references.values():
        file, path = sources.get("reference", ref.id)
        yield file, f"{path}.supports", ref.supports, MAX_DESCRIPTION
    for key, text in content.messages.items():
        file, path = sources.get("message", key)
        yield file, path, text, MAX_MESSAGE


def _check_texts(content: Content, sources: Sources) -> Iterator[Problem]:
    for file, path, text, limit in _all_texts(content, sources):
        for locale in content.locales:
            if not text.has(locale):
                yield Problem(file, f"{path}.{locale}", f"missing the '{locale}' text",
                              f"add '{locale}: \"...\"' (until then users see English)")
        for locale in text.locales:
            if locale not in content.locales:
                yield Problem(file, f"{path}.{locale}", f"locale '{locale}' is not declared",
                              "add it to content/locales.yaml or fix the code", warning=True)
        english = _placeholders(text.get(DEFAULT_LOCALE))
        for locale, value in text.values:
            if len(value) > limit:
                yield Problem(file, f"{path}.{locale}",
                              f"{len(value)} characters; the limit here is {limit}",
                              "shorten it: phone screens show one short idea per message")
            if locale != DEFAULT_LOCALE and _placeholders(value) != english:
                yield Problem(file, f"{path}.{locale}",
                              f"placeholders {sorted(_placeholders(value))} differ from "
                              f"English {sorted(english)}",
                              "keep every {name} exactly as in the English text")


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))
