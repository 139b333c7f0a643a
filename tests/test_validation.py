"""`ccbot validate`: one broken fixture per kind of problem, each reported with file, path, hint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.definitions.checked import load_content
from bot.definitions.problems import ContentError, Problem
from bot.definitions.validation import validate
from bot.engine.messages import REQUIRED_MESSAGES

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the shipped content and dialogues to break."""
    shutil.copytree(PROJECT / "content", tmp_path / "content")
    shutil.copytree(PROJECT / "dialogues", tmp_path / "dialogues")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"fixture text {old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def errors(project: Path) -> list[Problem]:
    problems = validate(project / "content", project / "dialogues", REQUIRED_MESSAGES)
    return [p for p in problems if not p.warning]


def find(problems: list[Problem], file: str, path: str, message: str) -> Problem:
    for problem in problems:
        if problem.file.endswith(file) and path in problem.path and message in problem.message:
            assert problem.hint, f"no hint for {problem}"
            return problem
    raise AssertionError(f"no problem {file} {path} {message!r} in:\n"
                         + "\n".join(map(str, problems)))


def test_shipped_content_and_dialogues_validate() -> None:
    assert validate(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES) == [
        p for p in validate(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
        if p.warning]


def test_malformed_yaml_names_file_and_line(project: Path) -> None:
    edit(project / "content/steps/delivery.yaml", "sub_components:", "sub_components: [")
    problem = find(errors(project), "content/steps/delivery.yaml", "line", "YAML syntax error")
    assert "line 1" in problem.path or "line" in problem.path


def test_duplicate_yaml_key_is_reported(project: Path) -> None:
    edit(project / "content/messages.yaml", "  skip:\n", "  skip:\n    en: \"a\"\n  skip:\n")
    find(errors(project), "content/messages.yaml", "line", "duplicate key 'skip'")


def test_unknown_question_id_in_a_dialogue(project: Path) -> None:
    edit(project / "dialogues/cycle.yaml", "ask: delivery.agility,", "ask: delivery.agilty,")
    find(errors(project), "dialogues/cycle.yaml", "steps.delivery.agility.ask",
         "unknown question 'delivery.agilty'")


def test_unknown_next_step(project: Path) -> None:
    edit(project / "dialogues/cycle.yaml", "next: delivery.leadership}", "next: nowhere}")
    find(errors(project), "dialogues/cycle.yaml", "steps.delivery.agility.next",
         "unknown step 'nowhere'")


def test_unreachable_step(project: Path) -> None:
    with (project / "dialogues/cycle.yaml").open("a", encoding="utf-8") as f:
        f.write("  - {id: orphan, ask: outcomes.insight, next: outcomes.design}\n")
    find(errors(project), "dialogues/cycle.yaml", "steps.orphan", "unreachable")


def test_dead_end_step(project: Path) -> None:
    edit(project / "dialogues/cycle.yaml",
         "ask: accountability.transparency, next: outcomes.insight}",
         "ask: accountability.transparency}")
    find(errors(project), "dialogues/cycle.yaml", "steps.accountability.transparency",
         "dead end")


def test_choose_step_without_options(project: Path) -> None:
    path = project / "dialogues/onboarding.yaml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    kept = [line for line in lines if "label: role." not in line]
    path.write_text("".join(kept).replace("    choose: onboarding.role\n    options:\n",
                                          "    choose: onboarding.role\n    options: []\n"),
                    "utf-8")
    find(errors(project), "dialogues/onboarding.yaml", "steps.role", "needs options")


def test_missing_level_prompt(project: Path) -> None:
    text = (project / "content/steps/outcomes.yaml").read_text("utf-8")
    start = text.index("  outcomes.design:")
    four = text.index("      4:", start)
    end = text.index("    reflection:", four)
    (project / "content/steps/outcomes.yaml").write_text(text[:four] + text[end:], "utf-8")
    find(errors(project), "content/steps/outcomes.yaml", "sub_components.outcomes.design.prompts.4",
         "missing the prompt for level 4")


def test_over_long_question(project: Path) -> None:
    edit(project / "content/steps/outcomes.yaml",
         'en: "How far do the people who use your service help to design or change it?"',
         'en: "' + "Too long. " * 30 + '"')
    find(errors(project), "content/steps/outcomes.yaml",
         "sub_components.outcomes.design.question.en", "limit here is 200")


def test_duplicate_sub_component_id(project: Path) -> None:
    edit(project / "content/framework.yaml", "      - id: relationships\n",
         "      - id: insight\n")
    find(errors(project), "content/framework.yaml", "strands.outcomes.sub_components.insight",
         "duplicate sub-component id 'outcomes.insight'")


def test_question_for_an_unknown_sub_component(project: Path) -> None:
    edit(project / "content/steps/outcomes.yaml", "  outcomes.design:", "  outcomes.desing:")
    problems = errors(project)
    find(problems, "content/steps/outcomes.yaml", "sub_components.outcomes.desing",
         "unknown sub-component 'outcomes.desing'")
    find(problems, "content/framework.yaml", "outcomes.sub_components.design",
         "has no question")


def test_reference_absent_from_the_library(project: Path) -> None:
    edit(project / "content/steps/outcomes.yaml",
         "references: [bovaird-2007, design-council-double-diamond, eif-website]",
         "references: [bovaird-2007, smith-2099]")
    find(errors(project), "content/steps/outcomes.yaml",
         "sub_components.outcomes.design.references", "'smith-2099' is not in the library")


def test_unverified_reference_cannot_be_evidence(project: Path) -> None:
    edit(project / "content/steps/outcomes.yaml",
         "references: [bovaird-2007, design-council-double-diamond, eif-website]",
         "references: [bovaird-2007, parston-2014]")
    find(errors(project), "content/steps/outcomes.yaml", "outcomes.design.references",
         "'parston-2014' is unverified")


def test_missing_locale_string(project: Path) -> None:
    edit(project / "content/locales.yaml", "  - {code: en, name: English}",
         "  - {code: en, name: English}\n  - {code: de, name: Deutsch}")
    find(errors(project), "content/messages.yaml", "messages.skip.de", "missing the 'de' text")


def test_placeholders_must_match_between_locales(project: Path) -> None:
    (project / "content/messages/extra.yaml").write_text(
        'messages:\n  extra.evidence:\n    en: "Evidence: {citation}"\n'
        '    fr: "Preuve : {citatio}"\n', "utf-8")
    find(errors(project), "content/messages/extra.yaml", "messages.extra.evidence.fr",
         "placeholders")


def test_identical_level_prompts(project: Path) -> None:
    text = (project / "content/steps/outcomes.yaml").read_text("utf-8")
    design = text.index("  outcomes.design:")
    # Under prompts, each level has title then text, each with en first: 4-space deeper lines.
    lines = [line for line in text[design:].splitlines() if line.startswith("          en: ")]
    level1_text, level2_text = lines[1], lines[3]
    (project / "content/steps/outcomes.yaml").write_text(
        text[:design] + text[design:].replace(level2_text, level1_text, 1), "utf-8")
    find(errors(project), "content/steps/outcomes.yaml", "outcomes.design.prompts.2.en",
         "identical to level 1")


def test_message_the_engine_needs_is_missing(project: Path) -> None:
    edit(project / "content/messages.yaml", "  hint.empty:\n", "  hint.empty_renamed:\n")
    find(errors(project), "content/messages.yaml", "messages.hint.empty", "used by the bot")


def test_text_not_given_per_locale(project: Path) -> None:
    (project / "content/messages/extra.yaml").write_text(
        'messages:\n  extra.plain: "Just text"\n', "utf-8")
    find(errors(project), "content/messages/extra.yaml", "messages.extra.plain", "per locale")


def test_content_error_lists_problems_when_loading(project: Path) -> None:
    edit(project / "dialogues/cycle.yaml", "start: outcomes.insight", "start: outcomes.nothing")
    with pytest.raises(ContentError) as caught:
        load_content(project / "content", project / "dialogues", REQUIRED_MESSAGES)
    assert any("start step 'outcomes.nothing'" in p.message for p in caught.value.problems)


@pytest.mark.slow
def test_cli_validate_prints_file_path_hint_and_exits_1(project: Path) -> None:
    edit(project / "dialogues/cycle.yaml", "ask: delivery.agility,", "ask: delivery.agilty,")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "validate", "--content", str(project / "content"),
         "--dialogues", str(project / "dialogues")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "dialogues/cycle.yaml: steps.delivery.agility.ask: error: unknown question" \
        in result.stdout
    assert "hint:" in result.stdout


@pytest.mark.slow
def test_cli_validate_passes_on_shipped_content() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "validate"], capture_output=True,
                            text=True, cwd=PROJECT)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK:")


def test_message_defined_in_two_files(project: Path) -> None:
    (project / "content/messages").mkdir(exist_ok=True)
    (project / "content/messages/extra.yaml").write_text(
        'messages:\n  skip:\n    en: "Skip it"\n', "utf-8")
    find(errors(project), "content/messages/extra.yaml", "messages.skip",
         "also in content/messages.yaml")


def test_every_shipped_locale_is_complete() -> None:
    from bot.definitions.checked import load_content

    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    assert content.locales == ("en", "fr", "es")
    missing = [p for p in validate(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
               if "missing the" in p.message]
    assert missing == []
