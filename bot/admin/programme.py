"""`ccbot broadcast`, `ccbot schedules` and `ccbot export`: the programme's messages and results."""

from __future__ import annotations

import argparse
import sys
import time

from bot.admin.context import (
    CLI_ACTOR,
    AdminError,
    admin_content,
    open_database,
)
from bot.definitions.model import DEFAULT_LOCALE
from bot.engine.core.local_time import local_text, parse_at, zone_of
from bot.engine.features.broadcasts.actions import (
    check_content,
    plan_broadcast,
    plan_once,
    resolve_audience,
)
from bot.engine.features.broadcasts.views import audience_text, schedule_text
from bot.engine.ports.directory import Rejected, commit_ops
from bot.engine.ports.directory_ops import CancelSchedule
from bot.exports import ExportError, export_responses, safe_path


def cmd_broadcast(args: argparse.Namespace) -> int:
    """Queue a broadcast now, or schedule it once with --at."""
    content = admin_content(args)
    now = time.time()
    with open_database(args) as opened:
        try:
            audience, label = resolve_audience(opened.directory, args.audience)
            kind, question, body = check_content(content, args.prompt, args.text)
            shown = audience_text(content, DEFAULT_LOCALE, audience, label)
            if args.at:
                at = parse_at(args.at, args.tz, now)
                commit_ops(opened.store, [plan_once(audience, label, kind, question, body, at,
                                                    zone_of(args.tz).key, CLI_ACTOR, now)])
                print(f"Scheduled for {local_text(at, args.tz)} to {shown}; the running bot "
                      "sends it then (or at its next start).")
                return 0
            op, recipients = plan_broadcast(opened.directory, audience, label, kind, question,
                                            body, None, now, ("telegram",))
        except Rejected as error:
            if error.message_id == "bc.empty_audience":
                error.values["audience"] = args.audience
            raise AdminError(error.text(content, DEFAULT_LOCALE)) from error
        commit_ops(opened.store, [op])
        latest = opened.directory.broadcasts(1)
    number = f" #{latest[0].id}" if latest else ""
    print(f"Broadcast{number} queued for {shown} (recipients: {len(recipients)}); the running "
          f"bot sends it. /report{number.replace('#', '')} in the chat shows the results.")
    return 0


def cmd_schedules_list(args: argparse.Namespace) -> int:
    """List active schedules."""
    content = admin_content(args)
    with open_database(args) as opened:
        schedules = opened.directory.schedules()
    for s in schedules:
        print(schedule_text(content, s, DEFAULT_LOCALE))
    if not schedules:
        print("No active schedules.")
    return 0


def cmd_schedules_cancel(args: argparse.Namespace) -> int:
    """Cancel a schedule by its number."""
    with open_database(args) as opened:
        schedule = opened.directory.schedule(args.id)
        if schedule is None or schedule.status != "active":
            raise AdminError(f"there is no active schedule #{args.id}; "
                             "`ccbot schedules list` shows them")
        commit_ops(opened.store, [CancelSchedule(args.id, time.time())])
    print(f"Schedule #{args.id} cancelled.")
    return 0


# ---------------------------------------------------------------------- export
def cmd_export_responses(args: argparse.Namespace) -> int:
    """Write every broadcast answer to a CSV or XLSX file, with pseudonyms for people."""
    content = admin_content(args)
    name = args.out or f"responses.{args.format}"
    try:
        path = safe_path(args.dir, name)
        if args.include_notes:
            print("Warning: the export includes reflections, in people's own words; they may "
                  "name or identify someone. Keep the file private and delete it when done.",
                  file=sys.stderr)
        with open_database(args) as opened:
            count = export_responses(opened.directory, content, path, args.format,
                                     args.include_notes, args.overwrite)
    except ExportError as exc:
        raise AdminError(str(exc)) from exc
    print(f"Wrote {count} response(s) to {path}.")
    return 0
