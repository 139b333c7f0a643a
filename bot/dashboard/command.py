"""`ccbot dashboard`: serve the web dashboard on its own (beside `ccbot run`, say)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from bot import settings
from bot.dashboard.messages import PAGE_MESSAGES
from bot.definitions.checked import load_content
from bot.definitions.problems import ContentError
from bot.engine.features.dashboard.feature import URL_ENV
from bot.engine.messages import REQUIRED_MESSAGES
from bot.engine.ports.store import StoreError

log = logging.getLogger(__name__)


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the web dashboard (managers and coordinators sign in with /dashboard in the chat)."""
    from bot.channels import http_server
    from bot.dashboard.app import routes, site_of
    from bot.storage.sqlite_store import SQLiteStore
    from bot.wiring import engine_parts

    try:
        content = load_content(settings.content_dir(args.content),
                               settings.dialogues_dir(args.dialogues),
                               REQUIRED_MESSAGES + PAGE_MESSAGES)
        store = SQLiteStore(settings.db_path(args.db))
    except ContentError:
        print("ccbot: the content has problems; run `ccbot validate`", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"ccbot: {exc}", file=sys.stderr)
        return 2
    try:
        site = site_of(lambda: content, store, engine_parts(store))
        app = http_server.application(routes(site))

        async def serve() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            async with http_server.running(app, args.listen, args.port) as port:
                # The one line a deployment script waits for (the port matters with --port 0).
                print(f"dashboard listening on http://{args.listen}:{port}", flush=True)
                await stop.wait()

        asyncio.run(serve())
        return 0
    finally:
        store.close()


def add_dashboard(sub: Any, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add `ccbot dashboard` to the parser."""
    parser = sub.add_parser("dashboard", parents=list(parents), help=cmd_dashboard.__doc__,
                            description=f"{cmd_dashboard.__doc__} Links point at "
                            f"${URL_ENV}; put an HTTPS proxy in front (docs/DASHBOARD.md).")
    parser.add_argument("--listen", default="127.0.0.1", metavar="ADDRESS",
                        help="address to listen on (default 127.0.0.1, behind a TLS proxy)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.set_defaults(func=cmd_dashboard)
