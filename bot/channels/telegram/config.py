"""Telegram settings from the environment and flags; a problem names the variable to fix."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
# Pacing and broadcasting (flags override these; docs/TELEGRAM.md, "Broadcasts and pacing").
RATE_ENV = "CCBOT_BROADCAST_RATE"
CHAT_RATE_ENV = "CCBOT_CHAT_RATE"
GROUP_RATE_ENV = "CCBOT_GROUP_RATE"
BROADCAST_CONCURRENCY_ENV = "CCBOT_BROADCAST_CONCURRENCY"
SCHEDULE_INTERVAL_ENV = "CCBOT_SCHEDULE_INTERVAL"
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
    # Messages per second overall (replies and broadcasts), per person's chat (broadcast
    # copies), and per minute per group chat.
    rate: float = 25.0
    chat_rate: float = 1.0
    group_per_minute: float = 20.0
    # Broadcast copies in flight at once (claimed and not yet settled): what a kill -9 may
    # leave unsure, so at most this many people may get a copy twice.
    broadcast_concurrency: int = 8
    # How often due schedules and weekly digests are looked for, and role menus refreshed.
    schedule_interval: float = 30.0

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


def _number(value: float | None, env: str, default: float, flag: str, least: float) -> float:
    """A flag's value, else the variable's, else the default; at least `least`."""
    if value is None:
        text = os.environ.get(env, "").strip()
        if text:
            try:
                value = float(text)
            except ValueError:
                raise ConfigError(f"{env} must be a number, not {text[:40]!r}") from None
        else:
            value = default
    if not value >= least:  # also refuses NaN
        raise ConfigError(f"{flag} (or {env}) must be at least {least:g}, not {value:g}")
    return value


def telegram_config(base_url: str | None = None, concurrency: int = 16,
                    read_timeout: float = 10.0, poll_timeout: int = 30, *,
                    rate: float | None = None, chat_rate: float | None = None,
                    group_rate: float | None = None, broadcast_concurrency: int | None = None,
                    schedule_interval: float | None = None) -> TelegramConfig:
    """Settings from the environment; the token is read only from TELEGRAM_BOT_TOKEN.

    Pacing settings left None come from their CCBOT_* variable, else the default.
    """
    # No --token flag on purpose: a command line is visible to every user through `ps`.
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set; export the token @BotFather gave you, "
                          f"e.g. {TOKEN_ENV}=123456:ABC... ccbot run")
    base = (base_url or os.environ.get(BASE_URL_ENV) or OFFICIAL_BASE_URL).strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"{BASE_URL_ENV} must be an http(s) URL such as "
                          f"{OFFICIAL_BASE_URL} or http://127.0.0.1:8081/bot, not {base!r}")
    if not base.endswith("/bot"):
        # The token is appended to this URL: without /bot it would run into the host or path.
        raise ConfigError(f"{BASE_URL_ENV} must end in /bot, such as {OFFICIAL_BASE_URL} or "
                          f"http://127.0.0.1:8081/bot, not {base!r}")
    if concurrency < 1:
        raise ConfigError("--concurrency must be at least 1")
    if read_timeout <= 0:
        raise ConfigError("--read-timeout must be a positive number of seconds")
    return TelegramConfig(
        token, base, concurrency, read_timeout, max(0, poll_timeout),
        rate=_number(rate, RATE_ENV, 25.0, "--broadcast-rate", 0.1),
        chat_rate=_number(chat_rate, CHAT_RATE_ENV, 1.0, "--chat-rate", 0.01),
        group_per_minute=_number(group_rate, GROUP_RATE_ENV, 20.0, "--group-rate", 0.1),
        broadcast_concurrency=int(_number(broadcast_concurrency, BROADCAST_CONCURRENCY_ENV, 8,
                                          "--broadcast-concurrency", 1)),
        schedule_interval=_number(schedule_interval, SCHEDULE_INTERVAL_ENV, 30.0,
                                  "--schedule-interval", 0.5))


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
