"""Online backup of the database while the bot runs, using SQLite's backup API."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.engine.store import StoreError
from bot.storage.sqlite_store import BUSY_TIMEOUT_MS, explain

# Copy this many pages per step so the running bot's writes are not held up for long.
PAGES_PER_STEP = 1024


def backup(source: str | Path, destination: str | Path, overwrite: bool = False) -> int:
    """Copy a live database to `destination` consistently; returns the copy's size in bytes."""
    source, destination = Path(source), Path(destination)
    if not source.exists():
        raise StoreError(f"no database at {source}; check --db or CCBOT_DB")
    if destination.exists() and not overwrite:
        raise StoreError(f"{destination} already exists; choose a new file or pass --overwrite")
    if destination.resolve() == source.resolve():
        raise StoreError("the backup must go to a different file than the database")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    # The copy holds the same reflections as the original: owner-only from the first byte.
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        src.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=PAGES_PER_STEP)
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise StoreError(f"the backup copy failed its integrity check: {check}")
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(explain(exc, str(source))) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # Rename last, so a crash never leaves a half-written file under the requested name.
    partial.replace(destination)
    return destination.stat().st_size
