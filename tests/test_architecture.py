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
    # /help shows each command's menu text and usage: ids from the command list, which
    # `ccbot validate` requires (commands.menu_messages).
    from_dialogues |= {"command.usage", "command.menu"}
    for path in (PACKAGE / "engine").rglob("*.py"):
        for call in re.findall(r"\.t\(([^)\s,]+)", path.read_text("utf-8")):
            assert call.startswith('"') or call in from_dialogues, (
                f"{path.name}: t({call} ...) is not a literal id")


# ---------------------------------------------------------------------- the import graph
def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every bot module -> the bot modules it imports, at run time or for types only."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from bot.engine.features.me import views` imports the module views.
                found = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                         else node.module for a in node.names]
            else:
                continue
            targets.update(t for t in found if t in modules and t != name)
        graph[name] = targets
    return graph


def test_no_import_cycles_anywhere_in_bot() -> None:
    graph = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target):], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_engine_layers_point_inward() -> None:
    """ports and core never import features; features never import the turn or the engine."""
    graph = import_graph()
    bad = []
    for name, targets in graph.items():
        for target in targets:
            inner = name.startswith(("bot.engine.core", "bot.engine.ports", "bot.engine.memory"))
            if inner and target.startswith("bot.engine.features"):
                bad.append((name, target))
            if name.startswith("bot.engine.features") and target in (
                    "bot.engine.core.turn", "bot.engine.engine"):
                bad.append((name, target))
            if name.startswith("bot.engine.ports") and target.startswith(
                    ("bot.engine.core.turn", "bot.engine.memory")):
                bad.append((name, target))
    assert bad == []


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) > 400}
    assert long == {}
