"""Reads YAML into plain values, collecting every problem with its file and key path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.definitions.model import DEFAULT_LOCALE, LocalText
from bot.definitions.problems import Problem
from bot.definitions.yaml_source import read_yaml

T = TypeVar("T")


class Reader:
    """Walks parsed YAML with the file name and key path at hand, recording problems."""

    def __init__(self, root: Path, problems: list[Problem]) -> None:
        self.root = root
        self.problems = problems

    def label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def problem(self, file: str, path: str, message: str, hint: str = "",
                warning: bool = False) -> None:
        self.problems.append(Problem(file, path, message, hint, warning))

    def mapping(self, value: Any, file: str, path: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(file, path, f"expected a mapping (key: value), found {kind_of(value)}",
                     "indent the keys under this one")
        return None

    def sequence(self, value: Any, file: str, path: str) -> list[Any] | None:
        if isinstance(value, list):
            return value
        self.problem(file, path, f"expected a list, found {kind_of(value)}",
                     "write each item on its own line starting with '- '")
        return None

    def string(self, data: dict[str, Any], key: str, file: str, path: str,
               required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(file, join_path(path, key), "missing", f"add '{key}: ...'")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.problem(file, join_path(path, key), f"expected text, found {kind_of(value)}",
                         "write it as a quoted string")
            return None
        return str(value)

    def text(self, data: dict[str, Any], key: str, file: str, path: str,
             required: bool = True) -> LocalText | None:
        value = data.get(key)
        where = join_path(path, key)
        if value is None:
            if required:
                self.problem(file, where, "missing", f"add '{key}: {{{DEFAULT_LOCALE}: "
                             "\"...\"}' with one entry per locale")
            return None
        if isinstance(value, str):
            self.problem(file, where, "text must be given per locale",
                         f"write '{key}: {{{DEFAULT_LOCALE}: \"{shortened(value)}\"}}'")
            return None
        mapping = self.mapping(value, file, where)
        if mapping is None:
            return None
        pairs: list[tuple[str, str]] = []
        for code, text in mapping.items():
            if not isinstance(text, str) or not text.strip():
                self.problem(file, join_path(where, str(code)), "empty or not text",
                             "write the text in quotes, or remove this locale")
                continue
            pairs.append((str(code), text.strip()))
        if not pairs:
            return None
        return LocalText(tuple(pairs))

    def unknown_keys(self, data: dict[str, Any], allowed: set[str], file: str, path: str) -> None:
        for key in data:
            if key not in allowed:
                self.problem(file, join_path(path, str(key)), f"unknown key '{key}'",
                             f"allowed keys here: {', '.join(sorted(allowed))}")


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def shortened(text: str) -> str:
    return text if len(text) < 30 else text[:27] + "..."


class Sources:
    """Where each id was defined, so later checks can point at the right file and key."""

    def __init__(self) -> None:
        self.places: dict[str, tuple[str, str]] = {}

    def add(self, kind: str, ident: str, file: str, path: str) -> None:
        self.places[f"{kind}:{ident}"] = (file, path)

    def get(self, kind: str, ident: str) -> tuple[str, str]:
        return self.places.get(f"{kind}:{ident}", ("?", ident))


SUBFOLDERS = ("steps", "quick", "messages")


def folder_problem(folder: Path, what: str, flag: str, optional: bool = False) -> Problem | None:
    """Why `folder` cannot be read, or None; an `optional` folder may also be missing."""
    try:
        if not folder.is_dir():
            if optional and not folder.exists():
                return None
            state = "is a file, not a folder" if folder.exists() else "not found"
            return Problem(str(folder), "", f"{what} folder {state}",
                           f"pass {flag} DIR or run from the project folder")
        os.listdir(folder)  # reading its names needs r
        os.stat(folder / ".")  # opening the files in it needs x
    except OSError as exc:
        # A traceback, before: Path.exists() raises PermissionError in a folder without x.
        return Problem(str(folder), "", f"cannot read the {what} folder ({exc.strerror})",
                       "let the user running ccbot read it and the files in it, "
                       "e.g. chmod -R u+rX on the folder")
    return None


def each_file(reader: Reader, path: Path, parse: Callable[[Any, str], T]) -> T | None:
    label = reader.label(path)
    if not path.exists():
        reader.problem(label, "", "file not found", "create it (see docs/CONTENT.md)")
        return None
    data = read_yaml(path, label, reader.problems)
    if data is None:
        return None
    return parse(data, label)
