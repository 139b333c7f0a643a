"""Keeps the bot token and the webhook secret out of every log line and exit message.

Bot API URLs contain the token and libraries log them; PTB logs setWebhook's secret_token.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "<redacted>"
# Where the secrets come from (config.py names them too; repeated to keep this module a leaf).
SECRET_ENVS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET")


def forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Each secret plain and URL-encoded, longest first, so no part of one is left."""
    found = {form for secret in secrets if secret.strip()
             for form in (secret.strip(), quote(secret.strip(), safe=""))}
    return tuple(sorted(found, key=len, reverse=True))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form of every secret replaced."""
    for secret in forms(secrets):
        text = text.replace(secret, REDACTED)
    return text


def secrets_from_environment(*more: str | None) -> tuple[str, ...]:
    """The token and webhook secret in the environment, and any given (e.g. --secret)."""
    return tuple(s for s in (*(os.environ.get(env, "") for env in SECRET_ENVS), *more) if s)


class TokenFilter(logging.Filter):
    """Replaces the token (and the webhook secret) in a record's message, arguments, traceback."""

    def __init__(self, token: str, *others: str) -> None:
        super().__init__()
        self.secrets = forms((token, *others))

    def redact(self, text: str) -> str:
        """`text` with every form of every secret replaced."""
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


def install(token: str, *others: str) -> TokenFilter:
    """Attach a TokenFilter to every handler of the root logger (where all records end up)."""
    token_filter = TokenFilter(token, *others)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.addFilter(token_filter)
    return token_filter
