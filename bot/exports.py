"""Exports broadcast responses as CSV or XLSX, pseudonymous unless notes are asked for."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.engine.core.pseudonyms import pseudonym_of
from bot.engine.features.broadcasts.views import audience_text, sub_title
from bot.engine.ports.directory import Directory

FORMATS = ("csv", "xlsx")
COLUMNS = ("respondent", "teams", "broadcast", "broadcast_day_utc", "audience", "kind",
           "prompt", "prompt_title", "level", "answer", "answered_day_utc")
NOTE_COLUMN = "reflection"
# A spreadsheet runs a cell starting with one of these as a formula (CSV/formula injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | None
_SQLITE_HEADER = b"SQLite format 3\x00"
# A team is named in the `teams` column only when at least this many respondents of the export
# share it: a person alone (or nearly) in a team would be named by it, and through their
# pseudonym so would every other answer of theirs (DESIGN.md §8.3, the minimum group).
TEAM_MINIMUM = 5
_JOURNALS = ("-wal", "-shm", "-journal")


class ExportError(Exception):
    """The export cannot be written where or how it was asked; the message says why."""


def safe_path(folder: str | Path, name: str) -> Path:
    """`name` inside `folder`, refusing anything that resolves outside it (.., links, /abs)."""
    try:
        root = Path(folder).resolve()
        target = (root / name).resolve()
    except (ValueError, OSError) as exc:  # e.g. a NUL byte in the name
        raise ExportError(f"'{name}' is not a usable file name ({exc}); choose another") from exc
    if not root.is_dir():
        raise ExportError(f"the folder {root} does not exist; create it or pass --dir")
    if target == root or not target.is_relative_to(root):
        raise ExportError(f"'{name}' is outside {root}; give a file name inside that folder "
                          "(or choose the folder with --dir)")
    return target


def _day(ts: float | None) -> str:
    """The UTC day only: times to the second single out who answered just after whom."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


def _safe_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def response_rows(directory: Directory, content: Content,
                  include_notes: bool) -> tuple[tuple[str, ...], list[list[Cell]]]:
    """The header and one row per answer; people appear only as pseudonyms.

    A pseudonym stays the same from export to export until the person uses /forget.
    """
    locale = DEFAULT_LOCALE
    header = COLUMNS + ((NOTE_COLUMN,) if include_notes else ())
    rows: list[list[Cell]] = []
    responses = directory.responses()
    sharing: dict[str, set[str]] = {}
    for r in responses:
        for name in r.teams:
            sharing.setdefault(name, set()).add(str(r.user))
    named = {name for name, people in sharing.items() if len(people) >= TEAM_MINIMUM}
    # The same for a broadcast's audience: "team riverside" on the rows of its 3 answers
    # would name their team as surely as the teams column.
    answering: dict[int, set[str]] = {}
    for r in responses:
        answering.setdefault(r.broadcast_id, set()).add(str(r.user))
    for r in responses:
        question = content.questions.get(r.question or "")
        scale = content.scales.get(question.scale) if question else None
        level = scale.level(r.level) if scale and r.level is not None else None
        # The stored audience label is a team or cohort name, never a person.
        audience = r.audience_label if r.audience_label else audience_text(
            content, locale, "everyone", "")
        broadcast: Cell = r.broadcast_id
        sent_on = _day(r.broadcast_at)
        if r.audience_label and len(answering[r.broadcast_id]) < TEAM_MINIMUM:
            # The broadcast's number and day would name the audience too: the coordinator
            # sees both beside it in `ccbot broadcasts list`, /report and the dashboard.
            audience, broadcast, sent_on = "", None, ""
        row: list[Cell] = [
            pseudonym_of(directory, r.user), ";".join(t for t in r.teams if t in named),
            broadcast, sent_on, audience, r.kind, r.question or "",
            sub_title(content, locale, r.question) if r.question else "", r.level,
            level.label.get(locale) if level else "", _day(r.answered_at)]
        if include_notes:
            row.append(r.note or "")
        rows.append([_safe_cell(c) for c in row])
    return header, rows


def _csv_bytes(header: Sequence[str], rows: list[list[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    # A BOM so that Excel opens UTF-8 text (accents, names of places) correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_bytes(header: Sequence[str], rows: list[list[Cell]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "responses"
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _refuse_database(path: Path) -> None:
    """Never write an export over a database or its journal (the bot's own, or a backup)."""
    try:
        with path.open("rb") as existing:
            header = existing.read(len(_SQLITE_HEADER))
    except OSError:
        header = b""
    if header == _SQLITE_HEADER or path.name.endswith(_JOURNALS):
        # Before: `--out ccbot.db` next to the database replaced it with the CSV.
        raise ExportError(f"{path} is a database file; give the export another name, "
                          "e.g. responses.csv")


def export_responses(directory: Directory, content: Content, path: Path, fmt: str,
                     include_notes: bool = False, overwrite: bool = False) -> int:
    """Write every broadcast answer to `path` (mode 0600); returns the number of rows."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}'; use one of: {', '.join(FORMATS)}")
    _refuse_database(path)
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; choose another --out or pass --overwrite "
                          "to replace it")
    header, rows = response_rows(directory, content, include_notes)
    data = _csv_bytes(header, rows) if fmt == "csv" else _xlsx_bytes(header, rows)
    write_private(path, data, overwrite)
    return len(rows)


def write_private(path: Path, data: bytes, overwrite: bool) -> None:
    """Write `data` to a new 0600 file beside `path`, then move it into place.

    Before: an existing 0644 file kept its mode, notes and all, and a crash mid-write left
    half a file. A rename keeps the mode of the new file; a hard link never replaces one.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # mkstemp's mode already; said for the reader
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the file appeared since the check
    except FileExistsError as exc:
        raise ExportError(f"{path} already exists; choose another --out or pass --overwrite "
                          "to replace it") from exc
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def responses_file(directory: Directory, content: Content, fmt: str) -> tuple[bytes, int]:
    """Every broadcast answer as CSV or XLSX bytes (pseudonyms, no notes), and the row count:
    the dashboard's download, the same rows as `ccbot export responses`."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}'; use one of: {', '.join(FORMATS)}")
    header, rows = response_rows(directory, content, include_notes=False)
    return (_csv_bytes(header, rows) if fmt == "csv" else _xlsx_bytes(header, rows)), len(rows)
