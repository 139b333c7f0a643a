"""The attacks of issue 11, tried as a manager would: each must now recover nothing.

Each test sets up the attack, makes the looks the attacker makes, and checks that what the
viewer was shown does not depend on the target's answer (or that it is withheld, saying so).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, Chat, World, invite_code

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import LeaveTeam, SetMemberRole
from bot.engine.ports.releases import RecordRelease, ReleaseConflict, Released, RoundAnswer
from bot.engine.release.audit import may_release
from bot.engine.release.figures import DIFFERENCING, TOO_FEW, TeamRelease
from bot.engine.release.report import release_distribution
from bot.engine.release.rounds import settle
from bot.engine.release.rules import Rules
from bot.engine.release.team import TeamRequest, release_team

MANAGER = "3"
WITHHELD = "could single out one person's answer"


# ---------------------------------------------------------------------- pure helpers
def people(*names: object) -> frozenset[str]:
    return frozenset(f"telegram:{n}" for n in names)


def round_of(content: Content, levels: dict[int, int], subs: int = 12) -> tuple[RoundAnswer, ...]:
    """Everyone in `levels` gave that level to the first `subs` sub-components."""
    return tuple(RoundAnswer(f"telegram:{p}", sub.id, level) for p, level in levels.items()
                 for sub in content.sub_components[:subs])


def look(content: Content, ledger: list[Released], answers: tuple[RoundAnswer, ...],
         source: str, viewer: str = "telegram:99") -> TeamRelease:
    """One look by the viewer: released against, then added to, their ledger."""
    release = release_team(content, TeamRequest(viewer, source, 1, 0.0, answers, 20, 0,
                                                tuple(ledger), Rules(), 0.0))
    ledger.extend(release.recorded)
    return release


def shown(release: TeamRelease) -> list[object]:
    return [(f.id, f.mean, f.spread) for f in (*release.subs, *release.strands)]


# ---------------------------------------------------------------------- the attacks (pure)
@pytest.mark.parametrize("n", [3, 4])
def test_mean_and_middle_half_of_three_or_four_are_never_shown(content: Content, n: int) -> None:
    release = look(content, [], round_of(content, {p: 1 + p % 4 for p in range(n)}), "team:1")
    assert not release.any_shown and all(f.spread is None for f in release.strands)


def test_spreads_need_eight_so_mean_and_middle_half_of_seven_are_not_shown(
        content: Content) -> None:
    release = look(content, [], round_of(content, {p: 1 + p % 4 for p in range(7)}), "team:1")
    assert release.any_shown and all(f.spread is None for f in (*release.subs, *release.strands))


@pytest.mark.parametrize("target_level", [1, 4])
def test_a_leave_between_two_rounds_recovers_nothing(content: Content, target_level: int) -> None:
    ledger: list[Released] = []
    everyone = {0: 2, 1: 3, 2: 2, 3: 4, 4: 3, 5: target_level}
    first = look(content, ledger, round_of(content, everyone), "team:1 round:1")
    assert first.any_shown
    # Person 5 leaves; the others answer exactly as before ("nothing else changed").
    second = look(content, ledger, round_of(content, {p: v for p, v in everyone.items()
                                                      if p != 5}), "team:1 round:2")
    assert not second.any_shown and second.reasons == (DIFFERENCING, "rel.parts_hidden")


def test_a_join_between_two_rounds_recovers_nothing(content: Content) -> None:
    ledger: list[Released] = []
    before = {0: 2, 1: 3, 2: 2, 3: 4, 4: 3}
    look(content, ledger, round_of(content, before), "team:1 round:1")
    after = look(content, ledger, round_of(content, {**before, 9: 4}), "team:1 round:2")
    assert not after.any_shown and DIFFERENCING in after.reasons


def test_a_team_that_changed_by_five_is_shown_again(content: Content) -> None:
    ledger: list[Released] = []
    look(content, ledger, round_of(content, {p: 2 for p in range(6)}), "team:1 round:1")
    later = look(content, ledger, round_of(content, {p: 3 for p in range(11)}), "team:1 round:2")
    assert later.any_shown


def test_a_move_between_teams_recovers_nothing(content: Content) -> None:
    # A coordinator sees teams A and B each round; person 5 moves from A to B.
    ledger: list[Released] = []
    a = {p: 1 + p % 4 for p in range(6)}
    b = {p: 1 + p % 3 for p in range(10, 16)}
    look(content, ledger, round_of(content, a), "team:1 round:1")
    look(content, ledger, round_of(content, b), "team:2 round:1")
    moved = a.pop(5)
    after_a = look(content, ledger, round_of(content, a), "team:1 round:2")
    after_b = look(content, ledger, round_of(content, {**b, 5: moved}), "team:2 round:2")
    assert not after_a.any_shown and not after_b.any_shown


def test_overlapping_teams_differing_by_one_person_recover_nothing(content: Content) -> None:
    # A coordinator sees team A (six people) and team B: the same six and one more.
    ledger: list[Released] = []
    six = {p: 1 + p % 4 for p in range(6)}
    assert look(content, ledger, round_of(content, six), "team:1 round:1").any_shown
    b = look(content, ledger, round_of(content, {**six, 42: 4}), "team:2 round:1")
    assert not b.any_shown and DIFFERENCING in b.reasons


def test_cohorts_whose_combination_isolates_one_person_are_withheld() -> None:
    # Pairwise the sets differ by five or more, but X + Z - Y is twice person a's answer.
    x, y, z = people(1, 2, 3, 4, 5, "a"), people(*range(1, 11)), people(6, 7, 8, 9, 10, "a")
    assert may_release(x, [], 5) and may_release(y, [x], 5)
    assert not may_release(z, [x, y], 5)


def test_a_sum_of_a_small_group_is_withheld_too() -> None:
    # Y minus X is the sum of two people: as telling as one person's answer on a 1-4 scale.
    x, y = people(*range(6)), people(*range(8))
    assert not may_release(y, [x], 5)


def test_two_people_told_apart_elsewhere_still_cannot_be_summed() -> None:
    # X + Y - Z - W is a's answer plus b's, and a also answered in V, so a and b are no longer
    # one group: a check of single groups alone would miss it (every two sets differ by 5+).
    a_, b_ = "a", "b"
    v = people(a_, 20, 21, 22, 23, 24)
    x, y = people(1, 2, 3, 4, 5, a_, b_), people(6, 7, 8, 9, 10)
    z, w = people(1, 2, 3, 4, 5, 11, 12, 13, 14, 15), people(6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    earlier: list[frozenset[str]] = []
    for group in (v, x, y, z):
        assert may_release(group, earlier, 5)
        earlier.append(group)
    assert not may_release(w, earlier, 5)


def test_a_difference_of_two_answers_is_withheld_like_a_sum() -> None:
    # Y - X is "Ann minus Ben": on a 1-4 scale a difference of 3 tells both answers.
    x, y = people(*range(10), "ann"), people(*range(10), "ben")
    assert may_release(x, [], 5) and not may_release(y, [x], 5)


def test_looking_again_at_the_same_round_is_the_same_release(content: Content) -> None:
    ledger: list[Released] = []
    answers = round_of(content, {p: 1 + p % 4 for p in range(9)})
    first = look(content, ledger, answers, "team:1 round:1")
    again = look(content, ledger, answers, "team:1 round:1")
    assert shown(first) == shown(again) and again.recorded == ()


def test_a_hidden_sub_component_does_not_leak_through_the_strand(content: Content) -> None:
    # Insight answered by two (hidden); design and brokering by eight. Changing the two
    # hidden answers must change nothing the viewer sees.
    def world(hidden: int) -> list[object]:
        subs = content.sub_components
        answers = [RoundAnswer(f"telegram:{p}", subs[i].id, 1 + (p + i) % 4)
                   for p in range(8) for i in (1, 2)]
        answers += [RoundAnswer(f"telegram:{p}", subs[0].id, hidden) for p in (0, 1)]
        return shown(look(content, [], tuple(answers), "team:1 round:1"))
    assert world(1) == world(4)


def test_the_viewers_own_answer_never_enters_what_they_see(content: Content) -> None:
    def world(own: int) -> list[object]:
        answers = round_of(content, {**{p: 1 + p % 4 for p in range(8)}, 99: own})
        return shown(look(content, [], answers, "team:1 round:1", viewer="telegram:99"))
    assert world(1) == world(4)


def test_report_leaves_out_the_viewers_answer_and_needs_eight_others() -> None:
    rules = Rules()
    def levels(n: int) -> list[RoundAnswer]:
        return [RoundAnswer("telegram:99", "", 1)] + [
            RoundAnswer(f"telegram:{p}", "", 1 + p % 4) for p in range(n)]
    few = release_distribution("telegram:99", 1, "outcomes.insight", levels(7), [], rules, 0.0)
    assert few.withheld == TOO_FEW and few.counts == () and few.answered == 7
    enough = release_distribution("telegram:99", 1, "outcomes.insight", levels(8), [], rules, 0)
    assert enough.withheld is None and sum(n for _, n in enough.counts) == 8
    # One more answer between two looks would show that person's answer: withheld.
    again = release_distribution("telegram:99", 1, "outcomes.insight", levels(9),
                                 list(enough.recorded), rules, 0.0)
    assert again.withheld == DIFFERENCING and again.counts == ()
    later = release_distribution("telegram:99", 1, "outcomes.insight", levels(13),
                                 list(enough.recorded), rules, 0.0)
    assert later.withheld is None


# ---------------------------------------------------------------------- through the chat
@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    made.engine.charts = None
    yield made
    made.close()


def answer(world: World, ident: str, level: int) -> None:
    user = UserKey("telegram", ident)
    world.store.commit(Commit(user, None, None, answers=tuple(
        Answer(user, "cycle", 1, sub.id, level, None, world.clock.now + i)
        for i, sub in enumerate(world.content.sub_components))))


def close(world: World) -> None:
    team = world.directory.team_named("riverside")
    assert team is not None
    world.clock.now += 1000
    commit_ops(world.store, settle(world.directory, team.id, team.created_at, world.clock.now,
                                   Rules(), close_now_by="test").ops)


def team(world: World, levels: dict[str, int]) -> Chat:
    admin = world.member(ADMIN.id)
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    boss = world.member(MANAGER)
    boss.send(f"/start {code}")
    found = world.directory.team_named("riverside")
    assert found is not None
    commit_ops(world.store, [SetMemberRole(found.id, f"telegram:{MANAGER}", "manager")])
    for ident, level in levels.items():
        world.member(ident).send(f"/start {code}")
        answer(world, ident, level)
    return boss


def said(chat: Chat) -> str:
    return "\n".join(r.text for r in chat.last.replies)


def figures_said(chat: Chat) -> str:
    """What was said, without the live member count (membership is no secret: /members)."""
    return "\n".join(line for line in said(chat).split("\n")
                     if not line.startswith("Members:"))


@pytest.mark.parametrize("how", ["leave", "forget"])
def test_a_leave_or_forget_between_two_looks_recovers_nothing(world: World, how: str) -> None:
    levels = {str(10 + n): 2 + n % 2 for n in range(6)}
    boss = team(world, levels)
    close(world)
    boss.send("/team")
    first = figures_said(boss)
    assert "To work on" in first
    target = UserKey("telegram", "15")
    if how == "leave":
        found = world.directory.team_named("riverside")
        assert found is not None
        commit_ops(world.store, [LeaveTeam(found.id, str(target))])
    else:
        world.store.commit(Commit(target, None, None, forget=True))
    # The closed round is fixed: looking at it again shows exactly the same.
    boss.send("/team")
    assert figures_said(boss) == first
    for ident, level in levels.items():  # the others answer as before in the next round
        if ident != "15":
            answer(world, ident, level)
    close(world)
    boss.send("/team")
    second = said(boss)
    assert WITHHELD in second and "To work on" not in second and "Insight 2" not in second


def test_answers_given_before_joining_never_appear(world: World) -> None:
    boss = team(world, {str(10 + n): 3 for n in range(4)})
    answer(world, "20", 1)  # a newcomer-to-be answers first ...
    world.clock.now += 100
    code = world.directory.invites(1)[0].code
    world.member("20").send(f"/start {code}")  # ... then joins
    close(world)
    boss.send("/team")
    assert "fewer than 5 people besides you" in said(boss) and "To work on" not in said(boss)


def test_a_new_answer_after_the_close_changes_nothing_shown(world: World) -> None:
    boss = team(world, {str(10 + n): 3 for n in range(8)})
    close(world)
    boss.send("/team")
    first = said(boss)
    answer(world, "10", 1)  # someone moves every level to 1 in the open round
    boss.send("/team")
    assert said(boss) == first


def test_a_look_decided_on_a_ledger_another_process_changed_is_not_kept(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # The dashboard (another process) shows the manager the team minus one person while the
    # chat's /team is being decided on the ledger as it was before: the chat's commit must
    # not show the whole team next to it, and the turn decided again withholds it.
    levels = {str(10 + n): 2 + n % 2 for n in range(6)}
    boss = team(world, levels)
    close(world)
    viewer = f"telegram:{MANAGER}"
    five = frozenset(f"telegram:{ident}" for ident in levels if ident != "15")
    stale = world.directory.released(viewer)
    world.store.commit(Commit(UserKey("telegram", MANAGER), None, None, ops=(RecordRelease(
        tuple(Released(viewer, sub.id, "dashboard", five, world.clock.now)
              for sub in world.content.sub_components), 5),)))
    monkeypatch.setattr(world.directory, "released", lambda who: list(stale))
    with pytest.raises(ReleaseConflict):
        boss.send("/team")
    monkeypatch.undo()
    boss.send("/team")
    assert WITHHELD in said(boss) and "To work on" not in said(boss)
