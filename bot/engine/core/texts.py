"""How a question and a tailored prompt read to the user, shared by chats and previews."""

from __future__ import annotations

from bot.definitions.model import Content, PromptText, Question, Reference


def titled_question(content: Content, question: Question, locale: str) -> str:
    """'Insight: How far do you ...?' (a quick question is titled by its strand)."""
    sub = content.sub_component(question.id)
    strand = content.strand(question.strand)
    title = (sub.title.get(locale) if sub else
             strand.title.get(locale) if strand else question.strand)
    # The heading is a message: French puts a space before the colon.
    return content.text("question.heading", locale, title=title,
                        question=question.question.get(locale))


def action_text(prompt: PromptText, locale: str) -> str:
    """An action as the user reads it: its title, then what to do."""
    return f"{prompt.title.get(locale)}\n{prompt.text.get(locale)}"


def action_for(content: Content, question: Question, level: int, persona: str | None,
               locale: str) -> str | None:
    """The action for `level`, tailored to `persona`, with its evidence line."""
    prompt = question.prompt_for(level, persona)
    if prompt is None:
        return None
    return prompt_with_evidence(content, question, action_text(prompt, locale), locale)


def prompt_with_evidence(content: Content, question: Question, prompt: str, locale: str) -> str:
    """The prompt followed by the short citation of its first evidence reference."""
    ref = content.references.get(question.references[0]) if question.references else None
    if ref is None:
        return prompt
    return f"{prompt}\n\n{content.text('evidence', locale, citation=ref.short(locale))}"


def evidence_card(content: Content, ref: Reference, locale: str) -> str:
    """What *About this evidence* shows: the full reference, what it shows, a link to read."""
    lines = [f"{ref.authors} ({ref.year}). {ref.title}. {ref.note(locale)}.",
             ref.supports.get(locale)]
    if ref.free_url:
        lines.append(content.text("evidence.free_link", locale, url=ref.free_url))
    elif ref.url:
        lines.append(content.text("evidence.link", locale, url=ref.url))
    return "\n\n".join(lines)


def preview(content: Content, question_id: str, locale: str, persona: str | None = None) -> str:
    """Everything a user can see for one question: the question, the scale, every prompt."""
    question = content.questions.get(question_id)
    if question is None:
        known = ", ".join(sorted(content.questions))
        raise KeyError(f"no question '{question_id}'; choose one of: {known}")
    scale = content.scales[question.scale]
    lines = [titled_question(content, question, locale), ""]
    for level in scale.levels:
        descriptor = question.descriptor(level.level)
        label = f"{level.level}) {level.label.get(locale)}"
        # The locale's own punctuation (French puts a space before the colon).
        lines.append("  " + (content.text("levels.line", locale, label=label,
                                          meaning=descriptor.get(locale)).lstrip("• ")
                             if descriptor else label))
    for level in scale.levels:
        action = action_for(content, question, level.level, persona, locale)
        if action is None:
            continue
        lines += ["", f"--- {level.level} {level.label.get(locale)} ---", action]
    for ref_id in question.references[:1]:
        ref = content.references.get(ref_id)
        if ref is not None:
            lines += ["", "--- About this evidence ---", evidence_card(content, ref, locale)]
    if question.reflection is not None:
        lines += ["", "--- the note the prompt offers ---",
                  content.text("note.offer", locale,
                               reflection=question.reflection.get(locale))]
    return "\n".join(lines) + "\n"
