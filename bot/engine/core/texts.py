"""How a question and a tailored prompt read to the user, shared by chats and previews."""

from __future__ import annotations

from bot.definitions.model import Content, Question


def titled_question(content: Content, question: Question, locale: str) -> str:
    """'Insight: How far do you ...?' (a quick question is titled by its strand)."""
    sub = content.sub_component(question.id)
    strand = content.strand(question.strand)
    title = (sub.title.get(locale) if sub else
             strand.title.get(locale) if strand else question.strand)
    return f"{title}: {question.question.get(locale)}"


def prompt_with_evidence(content: Content, question: Question, prompt: str, locale: str) -> str:
    """The prompt followed by its first evidence reference, as the user reads it."""
    ref = content.references.get(question.references[0]) if question.references else None
    if ref is None:
        return prompt
    citation = ref.citation() + (f" {ref.url}" if ref.url else "")
    return f"{prompt}\n\n{content.text('evidence', locale, citation=citation)}"


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
        lines += ["", "--- then the optional note ---",
                  content.text("note.ask", locale,
                               reflection=question.reflection.get(locale))]
    return "\n".join(lines) + "\n"
