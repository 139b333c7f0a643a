"""How a question and a tailored prompt read to the user, shared by chats and previews."""

from __future__ import annotations

import re

from bot.definitions.model import Content, Question


def titled_question(content: Content, question: Question, locale: str) -> str:
    """'Insight: How far do you ...?' (a quick question is titled by its strand)."""
    sub = content.sub_component(question.id)
    strand = content.strand(question.strand)
    title = (sub.title.get(locale) if sub else
             strand.title.get(locale) if strand else question.strand)
    return f"{title}: {question.question.get(locale)}"


def short_citation(authors: str, year: int) -> str:
    """'Arnstein (1969)', 'Ansell and Gash (2008)', 'Bovaird et al. (2015)', 'OECD (2017)'."""
    surnames = re.findall(r"([A-Z][\w'\-]+(?: [A-Z][\w'\-]+)*), (?:[A-Z]\.\s?)+", authors)
    if not surnames:
        return f"{authors} ({year})"
    shown = surnames[0] if len(surnames) == 1 else (
        " and ".join(surnames) if len(surnames) == 2 else f"{surnames[0]} et al.")
    return f"{shown} ({year})"


def evidence_line(content: Content, question: Question, locale: str) -> str:
    """'Evidence: Arnstein (1969)' for the question's first reference, or ''."""
    ref = content.references.get(question.references[0]) if question.references else None
    if ref is None:
        return ""
    return content.text("evidence", locale, citation=short_citation(ref.authors, ref.year))


def prompt_with_evidence(content: Content, question: Question, prompt: str, locale: str) -> str:
    """The prompt followed by the short citation of its first evidence reference."""
    line = evidence_line(content, question, locale)
    return f"{prompt}\n\n{line}" if line else prompt


def prompt_message(content: Content, question: Question, prompt: str, locale: str,
                   offers_note: bool) -> str:
    """The message after an answer: the prompt, its citation and, if offered, the note."""
    text = prompt_with_evidence(content, question, prompt, locale)
    if offers_note and question.reflection is not None:
        text += "\n\n" + content.text("note.offer", locale,
                                       reflection=question.reflection.get(locale))
    return text


def preview(content: Content, question_id: str, locale: str) -> str:
    """Everything a user can see for one question: the question, the scale, every prompt."""
    question = content.questions.get(question_id)
    if question is None:
        known = ", ".join(sorted(content.questions))
        raise KeyError(f"no question '{question_id}'; choose one of: {known}")
    scale = content.scales[question.scale]
    lines = [titled_question(content, question, locale), ""]
    for level in scale.levels:
        lines.append(f"  {level.level}) {level.label.get(locale)}")
    for level in scale.levels:
        prompt = question.prompt(level.level)
        if prompt is None:
            continue
        lines += ["", f"--- {level.level} {level.label.get(locale)} ---",
                  prompt_with_evidence(content, question, prompt.get(locale), locale)]
    if question.reflection is not None:
        lines += ["", "--- then the note it offers ---",
                  content.text("note.offer", locale,
                               reflection=question.reflection.get(locale))]
    return "\n".join(lines) + "\n"
