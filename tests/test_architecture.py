"""The dependency rule: definitions and engine import no adapter library (DESIGN.md §3)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bot"
FORBIDDEN = {"telegram", "sqlite_utils", "sqlite3", "matplotlib", "aiohttp", "httpx"}
PURE = ["definitions", "engine"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_and_definitions_import_no_adapter_library() -> None:
    offenders = {}
    for folder in PURE:
        for path in (PACKAGE / folder).rglob("*.py"):
            bad = imported_modules(path) & FORBIDDEN
            if bad:
                offenders[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offenders == {}


def test_engine_imports_no_channel_or_storage_module() -> None:
    for folder in PURE:
        for path in (PACKAGE / folder).rglob("*.py"):
            source = path.read_text("utf-8")
            assert "bot.channels" not in source and "bot.storage" not in source, path


def test_every_module_opens_with_a_docstring() -> None:
    missing = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               if ast.get_docstring(ast.parse(p.read_text("utf-8"))) is None]
    assert missing == []


def test_no_grab_bag_modules() -> None:
    names = {p.stem for p in PACKAGE.rglob("*.py")}
    assert not names & {"utils", "helpers", "misc", "common"}


def test_every_message_the_engine_says_is_declared_required() -> None:
    import re

    from bot.engine.messages import REQUIRED_MESSAGES

    used: set[str] = set()
    for path in (PACKAGE / "engine").rglob("*.py"):
        used.update(re.findall(r'\bt\("([a-z_.]+)"', path.read_text("utf-8")))
    assert used - set(REQUIRED_MESSAGES) == set()


def test_engine_says_messages_only_by_literal_id() -> None:
    """A computed id would escape the check above and `ccbot validate`."""
    import re

    # Ids named in dialogues (say, choose, option labels) are checked by the dialogue checks.
    from_dialogues = {"m", "step.choose", "o.label"}
    for path in (PACKAGE / "engine").rglob("*.py"):
        for call in re.findall(r"\.t\(([^)\s,]+)", path.read_text("utf-8")):
            assert call.startswith('"') or call in from_dialogues, (
                f"{path.name}: t({call} ...) is not a literal id")
