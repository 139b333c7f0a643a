"""Keeps the bot token out of every log line (Bot API URLs contain it, and libraries log them)."""

from __future__ import annotations

import logging
from urllib.parse import quote

REDACTED = "<redacted>"


class TokenFilter(logging.Filter):
    """Replaces the token, plain or URL-encoded, in a record's message, arguments and traceback."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secrets = tuple(dict.fromkeys(s for s in (token, quote(token, safe="")) if s))

    def redact(self, text: str) -> str:
        """`text` with every form of the token replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        # Format once here so that no argument, however it is rendered, can carry the token.
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts, redacted
            message = f"{record.msg} {record.args}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install(token: str) -> TokenFilter:
    """Attach a TokenFilter to every handler of the root logger (where all records end up)."""
    token_filter = TokenFilter(token)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.addFilter(token_filter)
    return token_filter
