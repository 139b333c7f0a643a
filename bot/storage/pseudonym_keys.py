"""The pseudonym key outside the database (a key file beside it, or a variable) and the salts.

The key used to live in `app_settings`, beside the data: anyone with a backup could recompute
every pseudonym and member code. It now comes from $CCBOT_PSEUDONYM_KEY, else `<db>.key`
(0600, made on first use); an old database's key moves to that file and leaves the database.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from pathlib import Path

from bot.engine.core.events import UserKey
from bot.engine.core.pseudonyms import SECRET_SETTING
from bot.engine.ports.store import StoreError
from bot.storage.sqlite_store import SQLiteStore, explain

log = logging.getLogger(__name__)

KEY_ENV = "CCBOT_PSEUDONYM_KEY"
KEY_SUFFIX = ".key"
_SHORTEST = 32  # characters; a shorter key could be guessed


class PseudonymKeyError(StoreError):
    """The pseudonym key cannot be read or made; the message names the file or variable."""


def key_path(database: str | Path) -> Path:
    """Where the key file of a database lives: beside it, `<db>.key`."""
    return Path(f"{database}{KEY_SUFFIX}")


def _from_environment() -> bytes | None:
    value = os.environ.get(KEY_ENV, "").strip()
    if not value:
        return None
    if len(value) < _SHORTEST:
        raise PseudonymKeyError(f"{KEY_ENV} must be at least {_SHORTEST} characters (e.g. the "
                                "output of `python3 -c 'import secrets; "
                                "print(secrets.token_hex(32))'`)")
    return value.encode("utf-8")


def _write_new(path: Path, value: str) -> bool:
    """Create the key file 0600 with `value`; False if it appeared meanwhile."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _read(path: Path) -> bytes:
    text = path.read_text("ascii").strip()
    if len(text) < _SHORTEST:
        raise PseudonymKeyError(f"the pseudonym key file {path} is empty or too short; "
                                f"restore it from where you keep it, or set {KEY_ENV}")
    return text.encode("ascii")


def load_key(store: SQLiteStore) -> bytes:
    """The key: $CCBOT_PSEUDONYM_KEY, else the key file (moving an old in-database key there).

    Always ends by deleting the old key from the database, in one write transaction.
    """
    try:
        with store.transaction() as conn:
            row = conn.execute("SELECT value FROM app_settings WHERE name = ?",
                               (SECRET_SETTING,)).fetchone()
            legacy = row[0] if row else None
            key = _from_environment()
            if key is None:
                key = _from_file(store.path, legacy)
            # secure_delete is on: the old key's bytes go from the file, and the -wal soon.
            conn.execute("DELETE FROM app_settings WHERE name = ?", (SECRET_SETTING,))
        return key
    except OSError as exc:
        raise PseudonymKeyError(f"cannot read or create the pseudonym key file "
                                f"{key_path(store.path)}: {exc.strerror}; check the folder "
                                f"is writable, or set {KEY_ENV}") from exc
    except sqlite3.Error as exc:
        raise StoreError(explain(exc, store.path)) from exc


def _from_file(database: str, legacy: str | None) -> bytes:
    if database == ":memory:":
        return (legacy or secrets.token_hex(32)).encode("ascii")
    path = key_path(database)
    if not path.exists() and _write_new(path, legacy or secrets.token_hex(32)) and legacy:
        log.info("moved the pseudonym key out of the database into %s", path)
    return _read(path)


class SQLitePseudonymKeys:
    """PseudonymKeys for SQLiteDirectory: the loaded key and the `pseudonym_salts` table."""

    store: SQLiteStore
    _pseudonym_key: bytes | None = None

    def pseudonym_key(self) -> bytes:
        if self._pseudonym_key is None:
            self._pseudonym_key = load_key(self.store)
        return self._pseudonym_key

    def pseudonym_salt(self, user: UserKey) -> str:
        found = self.store.query("SELECT salt FROM pseudonym_salts WHERE user_key = ?",
                                 (str(user),))
        if found:
            return str(found[0]["salt"])
        insert = "INSERT OR IGNORE INTO pseudonym_salts (user_key, salt) VALUES (?, ?)"
        values = (str(user), secrets.token_hex(16))
        # The store's lock (re-entrant) makes "is a transaction open?" and the write one step.
        with self.store._lock:
            if self.store.conn.in_transaction:  # asked from inside a commit, on this thread
                self.store.conn.execute(insert, values)
            else:
                with self.store.transaction() as conn:
                    conn.execute(insert, values)
        return str(self.store.query("SELECT salt FROM pseudonym_salts WHERE user_key = ?",
                                    (str(user),))[0]["salt"])
