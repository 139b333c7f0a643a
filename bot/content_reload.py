"""Reloading content and dialogues into a running engine: validate first, keep the old on error."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.definitions.checked import load_content
from bot.definitions.model import Content
from bot.definitions.problems import ContentError, Problem
from bot.engine.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class ContentReloader:
    """Reloads on demand (SIGHUP) or when the YAML files change (--watch)."""

    engine: Engine
    content_dir: Path
    dialogues_dir: Path
    required_messages: tuple[str, ...]
    _seen: tuple[tuple[str, int, int], ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        self._seen = self.fingerprint()

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """Path, size and mtime of every YAML file: cheap enough to poll every few seconds."""
        found = []
        for folder in (self.content_dir, self.dialogues_dir):
            for path in sorted(folder.rglob("*.yaml")):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                found.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def check(self) -> Content | list[Problem]:
        """Load and validate the folders (slow: run it off the event loop); nothing changes."""
        self._seen = self.fingerprint()
        try:
            return load_content(self.content_dir, self.dialogues_dir, self.required_messages)
        except ContentError as exc:
            errors = [p for p in exc.problems if not p.warning]
            # One record, so a reader of the log never sees the verdict without its reasons.
            log.error("content reload refused, keeping the previous content: %d problem(s): %s",
                      len(errors), "; ".join(str(problem) for problem in errors))
            return errors

    def apply(self, checked: Content | list[Problem]) -> list[Problem]:
        """Swap checked content into the engine (on the thread that runs turns)."""
        if isinstance(checked, list):
            return checked
        try:
            self.engine.reload(checked)
        except ValueError as exc:
            log.error("content reload refused, keeping the previous content: %s", exc)
            return [Problem(str(self.dialogues_dir), "", str(exc))]
        log.info("content reloaded from %s and %s", self.content_dir, self.dialogues_dir)
        return []

    def reload(self) -> list[Problem]:
        """Load, validate and swap in the content; on problems keep the old and return them."""
        return self.apply(self.check())

    def changed(self) -> bool:
        """True when any YAML file changed since the last check."""
        return self.fingerprint() != self._seen

    def reload_if_changed(self) -> list[Problem] | None:
        """Reload when any YAML file changed since the last look; None when nothing changed."""
        return self.reload() if self.changed() else None


def reloader_for(engine: Engine, content_dir: Path, dialogues_dir: Path,
                 required: Iterable[str]) -> ContentReloader:
    """A reloader for the folders the engine was loaded from."""
    return ContentReloader(engine, content_dir, dialogues_dir, tuple(required))
