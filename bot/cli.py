"""The `ccbot` command: parses arguments, wires concrete parts together, calls one thing."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__, settings
from bot.channels.telegram.commands import TELEGRAM_MESSAGES
from bot.channels.telegram.config import (
    BASE_URL_ENV,
    BROADCAST_CONCURRENCY_ENV,
    CHAT_RATE_ENV,
    GROUP_RATE_ENV,
    RATE_ENV,
    SCHEDULE_INTERVAL_ENV,
    SECRET_ENV,
    ConfigError,
    TelegramConfig,
    telegram_config,
    webhook_config,
)
from bot.channels.telegram.redaction import redact_text, secrets_from_environment
from bot.dashboard.messages import PAGE_MESSAGES
from bot.definitions.checked import load_content
from bot.definitions.model import PERSONAS, Content
from bot.definitions.problems import ContentError
from bot.definitions.validation import validate
from bot.engine.core.events import Reply
from bot.engine.engine import Engine
from bot.engine.messages import REQUIRED_MESSAGES
from bot.engine.ports.charts import ChartRenderer
from bot.engine.ports.store import StoreError
from bot.logging_setup import FORMAT_ENV, FORMATS, LogFormatError, configure, log_format

if TYPE_CHECKING:
    from bot.channels.telegram.reloading import Reloading
    from bot.storage.sqlite_store import SQLiteStore
    from bot.wiring import Parts

log = logging.getLogger("ccbot")

# Every message id the engine and the Telegram channel say; content must define them all.
SAID_MESSAGES = REQUIRED_MESSAGES + TELEGRAM_MESSAGES + PAGE_MESSAGES

EXIT_PROBLEMS = 1
EXIT_CONFIG = 2


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def _content(args: argparse.Namespace) -> Content:
    try:
        return load_content(settings.content_dir(args.content),
                            settings.dialogues_dir(args.dialogues),
                            SAID_MESSAGES)
    except ContentError as exc:
        errors = [p for p in exc.problems if not p.warning]
        details = "\n".join(str(p) for p in errors[:20])
        raise CliError(f"the content has {len(errors)} problem(s); run `ccbot validate`:\n"
                       f"{details}") from exc


def _charts() -> ChartRenderer | None:
    """Matplotlib charts, or none (text only) where matplotlib cannot load."""
    try:
        from bot.charts.render import MatplotlibCharts
    except ImportError as exc:  # charts are a bonus; every report also has its words
        log.warning("charts disabled: %s", exc)
        return None
    return MatplotlibCharts()


def _engine(args: argparse.Namespace) -> Engine:
    return _engine_and_parts(args)[0]


def _engine_and_parts(args: argparse.Namespace) -> tuple[Engine, Parts]:
    """The engine, and the coordinator parts the Telegram bot's sender and scheduler use."""
    from bot.storage.sqlite_store import SQLiteStore
    from bot.wiring import engine_parts

    content = _content(args)
    try:
        # The Telegram channel has the store queue replies (sqlite_channel.py); `ccbot chat`
        # prints them, so its store queues nothing.
        store = SQLiteStore(settings.db_path(args.db))
        parts = engine_parts(store)
    except (StoreError, ValueError) as exc:
        # ValueError: a malformed CCBOT_ADMINS; the message names the variable.
        raise CliError(str(exc)) from exc
    engine = Engine(content, store, charts=_charts(), features=parts.features,
                    roles=parts.roles)
    return engine, parts


def _telegram_config(args: argparse.Namespace) -> TelegramConfig:
    return telegram_config(args.base_url, args.concurrency, args.read_timeout,
                           getattr(args, "poll_timeout", 30), rate=args.broadcast_rate,
                           chat_rate=args.chat_rate, group_rate=args.group_rate,
                           broadcast_concurrency=args.broadcast_concurrency,
                           schedule_interval=args.schedule_interval)


def _sqlite(engine: Engine) -> SQLiteStore:
    from bot.storage.sqlite_store import SQLiteStore

    assert isinstance(engine.store, SQLiteStore), "the Telegram channel runs on SQLite"
    return engine.store


def _reloading(args: argparse.Namespace, engine: Engine) -> Reloading:
    """Content reload for the running bot: SIGHUP always, file changes with --watch."""
    from bot.channels.telegram.reloading import Reloading
    from bot.content_reload import reloader_for

    reloader = reloader_for(engine, settings.content_dir(args.content),
                            settings.dialogues_dir(args.dialogues),
                            SAID_MESSAGES)
    return Reloading(reloader, args.watch)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the Telegram bot with long polling (token from $TELEGRAM_BOT_TOKEN)."""
    from bot.channels.telegram.app import run_polling

    config = _telegram_config(args)
    engine, parts = _engine_and_parts(args)
    try:
        return run_polling(config, engine, _sqlite(engine), parts, _reloading(args, engine))
    finally:
        engine.store.close()


def cmd_webhook(args: argparse.Namespace) -> int:
    """Run the Telegram bot behind a webhook that Telegram posts updates to."""
    from bot.channels.telegram.app import run_webhook

    config = _telegram_config(args)
    hook = webhook_config(args.listen, args.port, args.url, args.secret)
    engine, parts = _engine_and_parts(args)
    try:
        return run_webhook(config, hook, engine, _sqlite(engine), parts,
                           _reloading(args, engine))
    finally:
        engine.store.close()


def cmd_chat(args: argparse.Namespace) -> int:
    """Chat in the terminal."""
    from bot.channels.console import Console
    from bot.engine.features.practice.followups import send_due
    from bot.engine.features.reminders.nudges import send_nudges

    engine, parts = _engine_and_parts(args)

    def due(user: str) -> list[Reply]:
        """This user's follow-ups and nudges due now (the terminal has no scheduler)."""
        now = engine.clock()
        sent = send_due(parts.practice, engine.store, engine.content, now, only=user)
        sent += send_nudges(parts.reminders, engine.store, engine.content, now, only=user)
        return [reply for _, reply in sent]

    console = Console(engine, args.user, sys.stdin.buffer, sys.stdout, Path(args.files),
                      args.lang, due=due)
    try:
        return console.run()
    except KeyboardInterrupt:
        sys.stdout.write("\nBye - your place is saved.\n")
        return 0
    finally:
        engine.store.close()


def cmd_validate(args: argparse.Namespace) -> int:
    """Check content and dialogues; print each problem with file, key path and a hint."""
    content_dir = settings.content_dir(args.content)
    dialogues_dir = settings.dialogues_dir(args.dialogues)
    problems = validate(content_dir, dialogues_dir, SAID_MESSAGES)
    errors = [p for p in problems if not p.warning]
    warnings = [p for p in problems if p.warning]
    for problem in errors + (warnings if args.warnings else []):
        print(problem)
    if errors:
        print(f"\n{len(errors)} error(s), {len(warnings)} warning(s) in {content_dir} and "
              f"{dialogues_dir}.")
        return EXIT_PROBLEMS
    note = f" ({len(warnings)} warning(s); show them with --warnings)" if warnings else ""
    print(f"OK: {content_dir} and {dialogues_dir} are valid{note}.")
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    """Print a dialogue as a Mermaid state diagram."""
    from bot.diagram import mermaid
    from bot.engine.core.machines import DialogueMachine

    content = _content(args)
    dialogue = content.dialogues.get(args.dialogue)
    if dialogue is None:
        raise CliError(f"no dialogue '{args.dialogue}'; choose one of: "
                       f"{', '.join(sorted(content.dialogues))}")
    sys.stdout.write(mermaid(DialogueMachine(dialogue)))
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    """Show a question, its scale and every level's prompt as a user would see them."""
    from bot.engine.core.texts import preview

    content = _content(args)
    if args.lang not in content.locales:
        raise CliError(f"no locale '{args.lang}'; choose one of: {', '.join(content.locales)}")
    try:
        sys.stdout.write(preview(content, args.question, args.lang, args.persona))
    except KeyError as exc:
        raise CliError(str(exc.args[0])) from exc
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the database to PATH, consistently, even while the bot is running."""
    from bot.storage.backup import backup

    source = settings.db_path(args.db)
    try:
        size = backup(source, args.path, args.overwrite)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    print(f"Backed up {source} to {args.path} ({size:,} bytes, readable by its owner only).")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Print users, activity, cycles completed and what waits to be handled or sent."""
    from bot.storage.stats import read_stats, stats_text

    try:
        stats = read_stats(settings.db_path(args.db))
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    sys.stdout.write(json.dumps(asdict(stats)) + "\n" if args.json else stats_text(stats))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ccbot", description="Collaborative Capacity Advisor: a guided chat advisor.")
    parser.add_argument("--version", action="version", version=f"ccbot {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--content", metavar="DIR", help="content folder (default ./content)")
    common.add_argument("--dialogues", metavar="DIR",
                        help="dialogues folder (default ./dialogues)")
    common.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    common.add_argument("--log-format", choices=FORMATS,
                        help=f"text lines, or one JSON object per line (default ${FORMAT_ENV} "
                        "or text)")
    with_db = argparse.ArgumentParser(add_help=False)
    with_db.add_argument("--db", metavar="FILE",
                         help=f"SQLite file (default ${settings.DB_ENV} or ./ccbot.db)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = sub.add_parser("chat", parents=[common, with_db], help=cmd_chat.__doc__,
                          description=cmd_chat.__doc__)
    chat.add_argument("--user", default="me", help="who you are (default 'me'); each name "
                      "has its own progress")
    chat.add_argument("--lang", help="language code, e.g. fr")
    chat.add_argument("--files", default="ccbot-files", metavar="DIR",
                      help="where charts and data files are written (default ./ccbot-files)")
    chat.set_defaults(func=cmd_chat)

    check = sub.add_parser("validate", parents=[common], help=cmd_validate.__doc__,
                           description=cmd_validate.__doc__)
    check.add_argument("--warnings", action="store_true", help="also print warnings")
    check.set_defaults(func=cmd_validate)

    show = sub.add_parser("preview", parents=[common], help=cmd_preview.__doc__,
                          description=cmd_preview.__doc__)
    show.add_argument("question", help="a sub-component id such as outcomes.insight, or a "
                      "quick question id such as quick.delivery")
    show.add_argument("--lang", default="en", help="language code (default en)")
    show.add_argument("--persona", choices=PERSONAS,
                      help="show the variants written for this role (default: the level's "
                      "prompt for everyone)")
    show.set_defaults(func=cmd_preview)

    diagram = sub.add_parser("diagram", parents=[common], help=cmd_diagram.__doc__,
                             description=cmd_diagram.__doc__)
    diagram.add_argument("dialogue", help="dialogue id, e.g. cycle")
    diagram.set_defaults(func=cmd_diagram)

    telegram = argparse.ArgumentParser(add_help=False)
    telegram.add_argument("--base-url", metavar="URL",
                          help=f"Bot API base URL, e.g. http://127.0.0.1:8081/bot for your own "
                          f"Bot API server (default ${BASE_URL_ENV} or the official API)")
    telegram.add_argument("--watch", action="store_true",
                          help="reload content/ and dialogues/ when a file changes (SIGHUP "
                               "always reloads)")
    telegram.add_argument("--concurrency", type=int, default=16, metavar="N",
                          help="chats handled at once (default 16); each chat stays in order")
    telegram.add_argument("--read-timeout", type=float, default=10.0, metavar="SECONDS",
                          help="how long to wait for a Bot API answer before retrying "
                          "(default 10)")
    telegram.add_argument("--broadcast-rate", type=float, metavar="PER_SECOND",
                          help=f"messages per second overall, replies and broadcasts together "
                          f"(default ${RATE_ENV} or 25); replies to users go first")
    telegram.add_argument("--chat-rate", type=float, metavar="PER_SECOND",
                          help=f"broadcast messages per second to one person (default "
                          f"${CHAT_RATE_ENV} or 1)")
    telegram.add_argument("--group-rate", type=float, metavar="PER_MINUTE",
                          help=f"messages per minute to one group chat (default "
                          f"${GROUP_RATE_ENV} or 20)")
    telegram.add_argument("--broadcast-concurrency", type=int, metavar="N",
                          help=f"broadcast messages in flight at once (default "
                          f"${BROADCAST_CONCURRENCY_ENV} or 8); a kill -9 may double at most "
                          "this many")
    telegram.add_argument("--schedule-interval", type=float, metavar="SECONDS",
                          help=f"how often due schedules and weekly digests are looked for "
                          f"(default ${SCHEDULE_INTERVAL_ENV} or 30)")
    run = sub.add_parser("run", parents=[common, with_db, telegram], help=cmd_run.__doc__,
                         description=f"{cmd_run.__doc__} The token is read only from the "
                         "environment, never from a flag: command lines are visible to all.")
    run.add_argument("--poll-timeout", type=int, default=30, metavar="SECONDS",
                     help="long-poll wait of each getUpdates (default 30)")
    run.set_defaults(func=cmd_run)

    hook = sub.add_parser("webhook", parents=[common, with_db, telegram],
                          help=cmd_webhook.__doc__, description=cmd_webhook.__doc__)
    hook.add_argument("--listen", default="127.0.0.1", metavar="ADDRESS",
                      help="address to listen on (default 127.0.0.1, behind a TLS proxy)")
    hook.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    hook.add_argument("--url", required=True,
                      help="public https URL Telegram posts to, e.g. https://bot.example.org/tg")
    hook.add_argument("--secret", help=f"secret Telegram sends with every update (default "
                      f"${SECRET_ENV}; the variable keeps it out of `ps`)")
    hook.set_defaults(func=cmd_webhook)
    save = sub.add_parser("backup", parents=[common, with_db], help=cmd_backup.__doc__,
                          description=f"{cmd_backup.__doc__} Uses SQLite's online backup; the "
                          "copy is checked and readable by its owner only.")
    save.add_argument("path", help="the file to write, e.g. /var/backups/ccbot-2025-06-01.db")
    save.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    save.set_defaults(func=cmd_backup)

    stats = sub.add_parser("stats", parents=[common, with_db], help=cmd_stats.__doc__,
                           description=f"{cmd_stats.__doc__} Reads only; safe while the bot "
                           "runs. See docs/OPERATIONS.md for what each figure counts.")
    stats.add_argument("--json", action="store_true", help="one JSON object, for monitoring")
    stats.set_defaults(func=cmd_stats)
    from bot.admin.parser import add_commands
    from bot.dashboard.command import add_dashboard
    add_commands(sub, [common, with_db])
    add_dashboard(sub, [common, with_db])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ccbot` console script."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        # The main job: Telegram when a token is configured, otherwise the terminal chat.
        argv = ["run"] if os.environ.get("TELEGRAM_BOT_TOKEN") else ["chat"]
    args = parser.parse_args(argv)
    try:
        configure(args.log_level, log_format(args.log_format))
    except LogFormatError as exc:
        print(f"ccbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        result: int = args.func(args)
        return result
    except (CliError, ConfigError) as exc:
        # The exit line goes to stderr (and the journal) without the log filters: redact it too.
        secrets = secrets_from_environment(getattr(args, "secret", None))
        print(f"ccbot: {redact_text(str(exc), secrets)}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
