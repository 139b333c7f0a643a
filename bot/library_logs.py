"""Keeps what people wrote out of the libraries' log lines, at every level.

python-telegram-bot logs each Bot API call's parameters and result at DEBUG (every note,
reflection, name and username that passes), and the raw updates it cannot parse at CRITICAL.
Our own log lines name users by key and updates by id only; a library's line keeps its
template and the plain values in it (endpoint names, URLs, numbers) and loses the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

HIDDEN = "<not logged>"
# Loggers of this project: their lines are written with only ids in them (reviewed, tested).
OURS = ("bot", "ccbot")
# An argument a library may keep: a number, or a short word, name of an endpoint, or URL.
# Anything with a space, a quote or a brace (a message text, a JSON document) is hidden.
_PLAIN = re.compile(r"[\w.:/@%<>=?&+-]{0,200}")


def _shown(value: object) -> object:
    """`value` if it is a plain value that cannot carry what a person wrote, else HIDDEN."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return value
    if isinstance(value, BaseException):
        return value  # error descriptions from Telegram or aiohttp; the token filter follows
    # Containers too: a dict of an update holds first names that look like plain words.
    return HIDDEN


class LibraryLogFilter(logging.Filter):
    """Hides every argument of a library's record that could hold a message body or a name."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in OURS:
            return True
        if not isinstance(record.msg, str):
            record.msg, record.args = HIDDEN, None
        elif isinstance(record.args, Mapping):
            record.args = {key: _shown(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_shown(arg) for arg in record.args)
        return True


def install(handlers: list[logging.Handler]) -> None:
    """Put a LibraryLogFilter first on each handler (once): before the token filter formats."""
    for handler in handlers:
        if not any(isinstance(f, LibraryLogFilter) for f in handler.filters):
            handler.filters.insert(0, LibraryLogFilter())
