"""The terminal chat: the same engine and database as Telegram, with numbered choices."""

from __future__ import annotations

import logging
import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.engine.core.events import Attachment, Choice, Event, Reply, Response, UserKey
from bot.engine.engine import Engine
from bot.engine.ports.store import StoreError

log = logging.getLogger(__name__)

_BOLD, _DIM, _CYAN, _RESET = "\033[1m", "\033[2m", "\033[36m", "\033[0m"


class Console:
    """Reads lines from a terminal (or a pipe) and prints the engine's replies."""

    def __init__(self, engine: Engine, user: str, stdin: BinaryIO, stdout: TextIO,
                 files_dir: Path, locale: str | None = None,
                 colour: bool | None = None,
                 due: Callable[[str], list[Reply]] | None = None) -> None:
        self.engine = engine
        # What is due for this user now (follow-ups, reminders), shown before each prompt.
        self.due = due
        # A name typed in a non-UTF-8 terminal arrives with surrogates; keep it storable.
        self.key = UserKey("console", user.encode("utf-8", "replace").decode("utf-8"))
        self.stdin = stdin
        self.stdout = stdout
        self.files_dir = files_dir
        self.locale = locale
        self.colour = stdout.isatty() if colour is None else colour
        self.width = min(shutil.get_terminal_size((80, 24)).columns, 88) - 2
        self.choices: tuple[Choice, ...] = ()

    def paint(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.colour else text

    def run(self) -> int:
        """Chat until end of input; returns the exit status."""
        self.send(Event(self.key, text="/start", locale=self.locale))
        while True:
            if self.due is not None:
                self.show(Response(tuple(self.due(str(self.key)))))
            self.stdout.write(self.paint("> ", _CYAN))
            self.stdout.flush()
            raw = self.stdin.readline()
            if not raw:
                self.stdout.write("\nBye - your place is saved.\n")
                return 0
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                self.print_text("That was not valid UTF-8 text; please type it again.")
                continue
            self.send(self.event_for(line))

    def event_for(self, line: str) -> Event:
        """A typed number picks a numbered choice; anything else is text."""
        stripped = line.strip()
        if stripped.isdigit() and self.choices:
            index = int(stripped) - 1
            if 0 <= index < len(self.choices):
                return Event(self.key, choice=self.choices[index].id, locale=self.locale)
        return Event(self.key, text=line, locale=self.locale)

    def send(self, event: Event) -> None:
        try:
            response = self.engine.handle(event)
        except StoreError as exc:
            log.error("store error for %s: %s", self.key, exc)
            self.print_text(f"Sorry, I could not save that: {exc}. Nothing was lost; "
                            "please try again.")
            return
        except Exception:
            # The command word at most: what a person typed never goes to the log.
            what = event.text.split()[0] if event.text.startswith("/") else "a message"
            log.exception("error handling %s from %s", what, self.key)
            self.print_text("Sorry, something went wrong on my side. Your progress is saved; "
                            "please try again.")
            return
        self.show(response)

    def show(self, response: Response) -> None:
        if response.chosen:
            self.print_text(self.paint(f"(you chose: {response.chosen})", _DIM))
        for reply in response.replies:
            self.print_reply(reply)
            if reply.choices:
                self.choices = reply.choices

    def print_reply(self, reply: Reply) -> None:
        self.print_text(reply.text)
        for attachment, kind in ((reply.image, "chart"), (reply.document, "file")):
            if attachment is not None:
                path = self.save(attachment)
                repeat = attachment.caption and attachment.caption != reply.text
                caption = f" - {attachment.caption}" if repeat else ""
                self.print_text(self.paint(f"[{kind} saved to {path}]{caption}", _DIM))
        for number, choice in enumerate(reply.choices, start=1):
            self.stdout.write(f"  {self.paint(str(number), _BOLD)}) {choice.label}\n")
        self.stdout.write("\n")

    def print_text(self, text: str) -> None:
        for paragraph in text.split("\n"):
            wrapped = textwrap.fill(paragraph, self.width, replace_whitespace=False,
                                    break_long_words=False, break_on_hyphens=False)
            self.stdout.write(wrapped + "\n")

    def save(self, attachment: Attachment) -> Path:
        """Write a file the bot sent (my-data.json with notes, charts) for this user only."""
        # 0700 and 0600: the folder and files hold people's answers and notes. A folder that
        # was there before keeps its mode (it may be the current one); its files are private.
        if not self.files_dir.is_dir():
            self.files_dir.mkdir(mode=0o700, parents=True)
            os.chmod(self.files_dir, 0o700)  # mkdir's mode is masked by the umask
        safe_user = "".join(c if c.isalnum() else "_" for c in self.key.id)[:40]
        path = self.files_dir / f"{safe_user}-{Path(attachment.filename).name}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # a file from before keeps its mode otherwise
            handle.write(attachment.data)
        return path.resolve()

