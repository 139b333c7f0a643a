"""The shipped content keeps its shape: one short action per prompt, personas where authority
matters, context and descriptors for every sub-component, vetted evidence, and French and
Spanish punctuation as readers expect it (issue 13; docs/CONTENT.md explains each rule)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.definitions.model import PERSONAS, Content, LocalText, PromptText, Question
from bot.definitions.validation import EVIDENCE_STATUSES, MAX_PROMPT

# How a prompt opens when it starts with "This week", per locale.
THIS_WEEK = {"en": "this week", "fr": "cette semaine", "es": "esta semana"}
# Strands whose level 3-4 actions need authority frontline staff do not have (issue 13, item 1).
PERSONA_STRANDS = ("alignment", "delivery")
LINK = re.compile(r"https?://\S+")


def variants(question: Question) -> Iterator[tuple[str, PromptText]]:
    """Every action text a user can be shown for the question, named by level and persona."""
    for prompt in question.prompts:
        yield f"{question.id}.prompts.{prompt.level}", prompt.default
        for persona, variant in prompt.personas:
            yield f"{question.id}.prompts.{prompt.level}.{persona}", variant


def all_texts(content: Content) -> Iterator[tuple[str, LocalText]]:
    """Every user-facing text with a name saying where it lives."""
    for strand in content.strands:
        yield f"{strand.id}.title", strand.title
        yield f"{strand.id}.description", strand.description
        for sub in strand.sub_components:
            yield f"{sub.id}.title", sub.title
            yield f"{sub.id}.description", sub.description
    for scale in content.scales.values():
        for level in scale.levels:
            yield f"scales.{scale.id}.{level.level}", level.label
    for question in content.questions.values():
        yield f"{question.id}.question", question.question
        if question.about:
            yield f"{question.id}.about", question.about
        if question.reflection:
            yield f"{question.id}.reflection", question.reflection
        for number, descriptor in question.descriptors:
            yield f"{question.id}.levels.{number}", descriptor
        for name, variant in variants(question):
            yield f"{name}.title", variant.title
            yield f"{name}.text", variant.text
    for ref in content.references.values():
        yield f"references.{ref.id}.supports", ref.supports
        if ref.venue_note:
            yield f"references.{ref.id}.venue_note", ref.venue_note
    for key, message in content.messages.items():
        yield f"messages.{key}", message


def in_locale(content: Content, locale: str) -> Iterator[tuple[str, str]]:
    for name, text in all_texts(content):
        if text.has(locale):
            yield name, text.get(locale)


def test_every_prompt_and_persona_text_fits_one_phone_message(content: Content) -> None:
    too_long = [(name, locale, len(value))
                for question in content.questions.values()
                for name, variant in variants(question)
                for locale, value in variant.text.values if len(value) > MAX_PROMPT]
    assert too_long == []


def test_every_prompt_and_persona_variant_is_written_in_every_locale(content: Content) -> None:
    missing = [(name, part, locale)
               for question in content.questions.values()
               for name, variant in variants(question)
               for part, text in (("title", variant.title), ("text", variant.text))
               for locale in content.locales if not text.has(locale)]
    assert missing == []


def test_every_sub_component_says_why_it_matters_in_every_locale(content: Content) -> None:
    lacking = [(sub.id, locale) for sub in content.sub_components
               for locale in content.locales
               if (about := content.questions[sub.id].about) is None or not about.has(locale)]
    assert lacking == []


def test_every_sub_component_describes_all_four_levels_in_every_locale(content: Content) -> None:
    for sub in content.sub_components:
        question = content.questions[sub.id]
        scale = content.scales[question.scale]
        assert len(scale.levels) == 4
        for level in scale.levels:
            descriptor = question.descriptor(level.level)
            assert descriptor is not None, f"{sub.id}: no descriptor for level {level.level}"
            assert all(descriptor.has(locale) for locale in content.locales), (sub.id, level)


def persona_gaps(content: Content, ids: tuple[str, ...], levels: tuple[int, ...]) -> list[str]:
    """Prompts at `levels` of the questions whose id is in `ids` (or under a strand in it)
    that lack a variant for some persona."""
    return [f"{question.id}.prompts.{prompt.level}: {sorted(set(PERSONAS) - written)}"
            for question in content.questions.values()
            if question.id in ids or question.id.split(".")[0] in ids
            for prompt in question.prompts if prompt.level in levels
            if (written := {persona for persona, _ in prompt.personas}) != set(PERSONAS)]


@pytest.mark.parametrize("strand", PERSONA_STRANDS)
def test_level_3_and_4_prompts_have_a_variant_for_every_persona(content: Content,
                                                                 strand: str) -> None:
    assert persona_gaps(content, (strand,), (3, 4)) == []


def test_every_incentives_prompt_has_a_variant_for_every_persona(content: Content) -> None:
    assert "alignment.incentives" in content.questions
    assert persona_gaps(content, ("alignment.incentives",), (1, 2, 3, 4)) == []


@pytest.mark.parametrize("locale", sorted(THIS_WEEK))
def test_no_more_than_a_quarter_of_prompts_start_with_this_week(content: Content,
                                                                locale: str) -> None:
    texts = [variant.text.get(locale) for question in content.questions.values()
             for _, variant in variants(question)]
    opening = [text for text in texts if text.casefold().startswith(THIS_WEEK[locale])]
    assert len(opening) * 4 <= len(texts), f"{len(opening)} of {len(texts)} start so"


def test_every_cited_reference_is_in_the_library_and_fit_to_show(content: Content) -> None:
    for question in content.questions.values():
        assert question.references, f"{question.id} cites no evidence"
        for ref_id in question.references:
            assert ref_id in content.references, f"{question.id} cites unknown '{ref_id}'"
            assert content.references[ref_id].status in EVIDENCE_STATUSES, ref_id


def french_spacing_errors(text: str, titles: tuple[str, ...] = ()) -> list[str]:
    """Each ':' ending a clause, '?' or '!' with no space before it; links, times such as
    09:00 and `titles` (published titles, cited in their own language) aside."""
    text = LINK.sub("", text)
    for title in titles:
        text = text.replace(title, "")
    return [text[max(0, m.start() - 20):m.end()]
            for m in re.finditer(r"(?<=\S)(?::(?=\s|$)|[?!])", text)]


def test_the_french_spacing_rule_is_checked_as_meant() -> None:
    assert french_spacing_errors("Prêt ? Allons-y : /cycle, à 09:00 https://a.org/x?y=1") == []
    assert french_spacing_errors("Prêt? Oui!") == ["Prêt?", "Prêt? Oui!"]
    assert french_spacing_errors("Source: X") == ["Source:"]
    assert french_spacing_errors("Prêt\u202f? Oui\u00a0!") == []  # narrow and non-breaking
    assert french_spacing_errors("« Delivery: a Framework » : lu", ("Delivery: a Framework",)) == []


def test_french_texts_have_a_space_before_colons_question_and_exclamation_marks(
        content: Content) -> None:
    titles = tuple(ref.title for ref in content.references.values())
    bad = [(name, error) for name, text in in_locale(content, "fr")
           for error in french_spacing_errors(text, titles)]
    assert bad == []


def unopened_questions(text: str) -> list[str]:
    """Each Spanish question ending in '?' without its opening '¿'."""
    text = LINK.sub("", text)
    sentences = re.findall(r"[^?]*\?", text)
    return [sentence.strip() for sentence in sentences if "¿" not in sentence]


def test_the_spanish_question_rule_is_checked_as_meant() -> None:
    assert unopened_questions("Gracias. ¿Qué describe mejor su función? Vea https://a.org/?x") == []
    assert unopened_questions("¿Listo? Sí. Qué bien?") == ["Sí. Qué bien?"]


def test_spanish_questions_open_with_an_inverted_question_mark(content: Content) -> None:
    bad = [(name, error) for name, text in in_locale(content, "es")
           for error in unopened_questions(text)]
    assert bad == []
