"""The /team line on actions tried per strand, released through the release rules."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.core.feature_api import TurnApi
from bot.engine.ports.practice import PracticeBook
from bot.engine.ports.releases import RecordRelease, Released
from bot.engine.release.practice import release_tried
from bot.engine.release.requests import TeamView


def tried_line(turn: TurnApi, practice: PracticeBook, view: TeamView, team_id: int,
               ledger: Sequence[Released]) -> None:
    """Say how many of the closed round's respondents tried something per strand, as the
    release rules allow; the figures shown are recorded with the reply."""
    last = view.rounds.last
    if last is None or last.closed_at is None:
        return
    respondents = frozenset(a.person for a in view.rounds.answers)
    tried = practice.tried_by(sorted(respondents), last.opened_at, last.closed_at)
    strands = [s.id for s in turn.content.strands]
    # The viewer's ledger, with what the team release records in this same turn.
    earlier = tuple(r for op in view.ops if isinstance(op, RecordRelease) for r in op.rows)
    release = release_tried(str(turn.user.key), f"team:{team_id} round:{last.number}",
                            respondents, tried, strands, (*ledger, *earlier), view.rules,
                            turn.now)
    if release.recorded:
        turn.ops.append(RecordRelease(release.recorded, view.rules.minimum))
    shown = [f"{turn.strand_title(s)} {int(f.mean)}" for s, f in zip(strands, release.strands)
             if f.mean is not None]
    if shown:
        turn.say(turn.t("tv.tried", counts=", ".join(shown)))
    else:
        turn.say(turn.t("tv.tried_withheld"))
