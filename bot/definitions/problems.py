"""Problems found in content or dialogue files, each with where it is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a YAML file: file, key path, what is wrong, how to fix it."""

    file: str
    path: str
    message: str
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        kind = "warning" if self.warning else "error"
        text = f"{where}: {kind}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class ContentError(Exception):
    """The content or dialogues have errors; `problems` lists them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if not p.warning]
        first = f": {errors[0]}" if errors else ""
        super().__init__(f"{len(errors)} problem(s) in content or dialogues{first}")
