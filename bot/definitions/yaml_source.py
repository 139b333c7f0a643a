"""Reads YAML files strictly: duplicate keys and syntax errors become problems with line numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.definitions.problems import Problem


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that records duplicate mapping keys instead of silently keeping the last."""

    duplicates: list[tuple[str, int]]


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (str, int)) and key in seen:
            loader.duplicates.append((str(key), key_node.start_mark.line + 1))
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, label: str, problems: list[Problem]) -> Any:
    """Parse one YAML file; on failure add a problem and return None."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(label, "", f"not valid UTF-8 (byte {exc.start})",
                                "save the file as UTF-8"))
        return None
    except OSError as exc:
        problems.append(Problem(label, "", f"cannot read the file ({exc.strerror})",
                                "check that it exists and is readable"))
        return None
    loader = _StrictLoader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        problems.append(Problem(label, where, f"YAML syntax error: {exc.problem}",
                                "check indentation and quoting near that line; "
                                "text containing ':' or '#' must be in quotes"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(label, "", f"YAML error: {exc}", "fix the YAML syntax"))
        return None
    finally:
        loader.dispose()
    for name, line in loader.duplicates:
        problems.append(Problem(label, f"line {line}", f"duplicate key '{name}'",
                                "each key may appear once in a mapping; remove or rename one"))
    return data
