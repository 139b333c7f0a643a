"""Telegram settings from the environment and flags; a problem names the variable to fix."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
OFFICIAL_BASE_URL = "https://api.telegram.org/bot"
# Telegram's rule for secret_token: 1-256 characters, A-Z, a-z, 0-9, _ and -.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """The Telegram settings are missing or wrong; the message names what to change."""


@dataclass(frozen=True)
class TelegramConfig:
    """How to reach the Bot API and how hard to work."""

    token: str
    base_url: str = OFFICIAL_BASE_URL
    concurrency: int = 16
    # Seconds to wait for a Bot API answer before retrying (the long poll adds its own time).
    read_timeout: float = 10.0
    poll_timeout: int = 30

    @property
    def base_file_url(self) -> str:
        """The file-download base that goes with base_url (…/bot → …/file/bot)."""
        root = self.base_url[: -len("/bot")] if self.base_url.endswith("/bot") else self.base_url
        return f"{root}/file/bot"


@dataclass(frozen=True)
class WebhookConfig:
    """Where the webhook listens and the URL and secret Telegram is given."""

    listen: str
    port: int
    url: str
    secret: str

    @property
    def path(self) -> str:
        """The URL path Telegram posts to; any other path is answered 404."""
        return urlsplit(self.url).path or "/"


def telegram_config(base_url: str | None = None, concurrency: int = 16,
                    read_timeout: float = 10.0, poll_timeout: int = 30) -> TelegramConfig:
    """Settings from the environment; the token is read only from TELEGRAM_BOT_TOKEN."""
    # No --token flag on purpose: a command line is visible to every user through `ps`.
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set; export the token @BotFather gave you, "
                          f"e.g. {TOKEN_ENV}=123456:ABC... ccbot run")
    base = (base_url or os.environ.get(BASE_URL_ENV) or OFFICIAL_BASE_URL).strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"{BASE_URL_ENV} must be an http(s) URL such as "
                          f"{OFFICIAL_BASE_URL} or http://127.0.0.1:8081/bot, not {base!r}")
    if concurrency < 1:
        raise ConfigError("--concurrency must be at least 1")
    if read_timeout <= 0:
        raise ConfigError("--read-timeout must be a positive number of seconds")
    return TelegramConfig(token, base, concurrency, read_timeout, max(0, poll_timeout))


def webhook_config(listen: str, port: int, url: str, secret: str | None) -> WebhookConfig:
    """Webhook settings; the secret comes from --secret or TELEGRAM_WEBHOOK_SECRET."""
    secret = secret or os.environ.get(SECRET_ENV, "")
    if not _SECRET.match(secret):
        raise ConfigError(f"the webhook secret (--secret or {SECRET_ENV}) must be 1-256 "
                          "characters of A-Z, a-z, 0-9, _ and -")
    if not url.startswith("https://") and not url.startswith("http://"):
        raise ConfigError(f"--url must be the public https:// URL Telegram posts to, not {url!r}")
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, not {port}")
    return WebhookConfig(listen, port, url, secret)
