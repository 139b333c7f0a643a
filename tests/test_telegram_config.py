"""Telegram settings and the token filter: errors name the variable, logs never hold the token."""

from __future__ import annotations

import logging

import pytest

from bot.channels.telegram.config import (
    OFFICIAL_BASE_URL,
    ConfigError,
    telegram_config,
    webhook_config,
)
from bot.channels.telegram.redaction import REDACTED, TokenFilter, install

TOKEN = "123456:AAH-secret_Token"


def test_token_comes_from_the_environment_and_the_base_url_defaults_to_telegram(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("TELEGRAM_API_BASE_URL", raising=False)
    config = telegram_config()
    assert (config.token, config.base_url) == (TOKEN, OFFICIAL_BASE_URL)
    assert config.base_file_url == "https://api.telegram.org/file/bot"


def test_base_url_for_a_self_hosted_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot/")
    config = telegram_config()
    assert config.base_url == "http://127.0.0.1:8081/bot"
    assert config.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert telegram_config("http://other:1/bot").base_url == "http://other:1/bot"


def test_missing_token_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        telegram_config()


def test_a_base_url_that_is_not_a_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "api.telegram.org")
    with pytest.raises(ConfigError, match="TELEGRAM_API_BASE_URL"):
        telegram_config()


@pytest.mark.parametrize("secret", ["", "has space", "x" * 257, "ünï"])
def test_webhook_secret_must_follow_telegram_rules(secret: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        webhook_config("127.0.0.1", 8080, "https://bot.example.org/tg", secret)


def test_webhook_secret_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "from-env_1")
    hook = webhook_config("0.0.0.0", 8443, "https://bot.example.org/hook/tg", None)
    assert (hook.secret, hook.path) == ("from-env_1", "/hook/tg")


def test_filter_redacts_the_token_in_messages_arguments_and_tracebacks() -> None:
    token_filter = TokenFilter(TOKEN)
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1,
                               'HTTP Request: POST %s "%s"', (
                                   f"https://api.telegram.org/bot{TOKEN}/getMe", "200 OK"), None)
    try:
        raise RuntimeError(f"failed for /file/bot{TOKEN.replace(':', '%3A')}/x")
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    assert token_filter.filter(record)
    formatted = logging.Formatter().format(record)
    assert TOKEN not in formatted and "123456%3AAAH" not in formatted
    assert formatted.count(REDACTED) == 2


def test_install_covers_records_from_every_logger(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    token_filter = install(TOKEN)
    try:
        with caplog.at_level(logging.INFO):
            caplog.handler.addFilter(token_filter)
            logging.getLogger("httpx").info("POST %s", f"http://x/bot{TOKEN}/sendMessage")
        assert TOKEN not in caplog.text and REDACTED in caplog.text
    finally:
        for handler in root.handlers:
            handler.removeFilter(token_filter)
        caplog.handler.removeFilter(token_filter)
