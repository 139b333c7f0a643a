"""Sets up logging for every `ccbot` command: level, text or JSON lines, libraries kept quiet."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from bot import library_logs

FORMATS = ("text", "json")
FORMAT_ENV = "CCBOT_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes a caller may attach with `extra={...}` that get a JSON field of their own.
EXTRA_FIELDS = ("update_id", "user", "chat", "broadcast_id")


class LogFormatError(ValueError):
    """An unknown log format; the message names the flag and the variable."""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, chosen extras, exception.

    The token filter (bot/channels/telegram/redaction.py) runs on the handler before any
    formatter: it replaces the message and caches a redacted traceback in `exc_text`, which is
    used here as it is. ASCII escapes keep every record on one line whatever a user typed.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value if isinstance(value, (int, float)) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry)


def log_format(flag: str | None) -> str:
    """--log-format, else $CCBOT_LOG_FORMAT, else text."""
    chosen = (flag or os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if chosen not in FORMATS:
        raise LogFormatError(f"unknown log format '{chosen}' (from --log-format or "
                             f"{FORMAT_ENV}); choose one of: {', '.join(FORMATS)}")
    return chosen


def configure(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Log records at `level` and above to stderr, as text or as JSON lines.

    Like logging.basicConfig, this leaves a root logger that already has someone else's
    handlers (pytest's, an embedding program's) alone apart from the level.
    """
    root = logging.getLogger()
    root.setLevel(getattr(logging, str(level).upper(), logging.WARNING))
    ours = [h for h in root.handlers if getattr(h, "ccbot", False)]
    if not root.handlers or ours:
        for handler in ours:
            root.removeHandler(handler)
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.ccbot = True  # type: ignore[attr-defined]
        handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
    # Before any library logs: PTB puts message texts and names in its DEBUG lines.
    library_logs.install(root.handlers)
    # Warnings printed by the warnings module would bypass the handlers' token filter.
    logging.captureWarnings(True)
    if root.level > logging.DEBUG:
        # The webhook's access log has a line per request at INFO; at DEBUG it is wanted.
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
