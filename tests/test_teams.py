"""Teams, invite links, cohorts and roles: in the chat (both stores) and from the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, World, ccbot, invite_code

from bot.definitions.model import Content
from bot.engine.core import commands
from bot.engine.core.events import UserKey
from bot.engine.core.records import Op
from bot.engine.core.roles import AdminsError, parse_admins
from bot.engine.features.personal import PERSONAL_COMMANDS
from bot.engine.features.teams.actions import DAY, appoint, find_team, rotate_invite
from bot.engine.messages import ALL_COMMANDS
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import GrantRole

REFUSED = "only available to coordinators or managers"


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    yield made
    made.close()


def new_team(world: World, name: str = "riverside") -> str:
    admin = world.member(ADMIN.id)
    admin.send(f"/newteam {name}")
    return invite_code(admin.text())


def teams_of(world: World, ident: str) -> list[str]:
    found = []
    for member in world.directory.memberships(UserKey("telegram", ident)):
        team = world.directory.team(member.team_id)
        assert team is not None
        found.append(f"{team.name}:{member.role}")
    return found


# ---------------------------------------------------------------------- creating and joining
def test_newteam_gives_an_unguessable_deep_link(world: World) -> None:
    admin = world.member(ADMIN.id)
    admin.send("/newteam riverside")
    assert "Team riverside is ready" in admin.text()
    link = re.search(r"https://t\.me/testbot\?start=(\S+)", admin.text())
    assert link is not None
    # Telegram's start payload: 1-64 characters of A-Za-z0-9_-; ours have 144 random bits.
    assert re.fullmatch(r"in-[A-Za-z0-9_-]{24}", link.group(1))
    assert world.directory.team_named("riverside") is not None


def test_a_new_user_joins_after_onboarding(world: World) -> None:
    code = new_team(world)
    ann = world.chat("2")
    ann.send(f"/start {code}")
    assert teams_of(world, "2") == []  # nothing before consent
    ann.tap("Yes, I agree")
    ann.tap("Frontline staff")
    assert "Welcome to team riverside!" in ann.text()
    assert "step 1 of 12" in ann.text()
    assert teams_of(world, "2") == ["riverside:member"]


def test_a_declined_onboarding_joins_nothing(world: World) -> None:
    code = new_team(world)
    ann = world.chat("2")
    ann.send(f"/start {code}")
    ann.tap("No thanks")
    assert teams_of(world, "2") == []
    assert world.directory.invite(code).uses == 0  # type: ignore[union-attr]


def test_an_existing_user_joins_once(world: World) -> None:
    code = new_team(world)
    ann = world.member("2")
    ann.send(f"/start {code}")
    assert "Welcome to team riverside!" in ann.text()
    ann.send(f"/start {code}")
    assert "already in team riverside" in ann.text()
    assert teams_of(world, "2") == ["riverside:member"]
    assert world.directory.invite(code).uses == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["in-doesnotexist", "in-" + "x" * 24, "in-"])
def test_a_wrong_code_is_refused_clearly(world: World, code: str) -> None:
    new_team(world)
    ann = world.member("2")
    ann.send(f"/start {code}")
    assert "This invite link is not valid" in ann.text()
    assert teams_of(world, "2") == []


def test_a_rotated_link_stops_working_and_the_new_one_works(world: World) -> None:
    old = new_team(world)
    admin = world.chat(ADMIN.id)
    admin.send("/invite riverside rotate")
    assert "The old one no longer works" in admin.text()
    new = invite_code(admin.text())
    ann, ben = world.member("2"), world.member("3")
    ann.send(f"/start {old}")
    assert "has been withdrawn" in ann.text() and teams_of(world, "2") == []
    ben.send(f"/start {new}")
    assert teams_of(world, "3") == ["riverside:member"]


def test_revoking_closes_joining_by_link(world: World) -> None:
    code = new_team(world)
    admin = world.chat(ADMIN.id)
    admin.send("/invite riverside revoke")
    assert "nobody can join by link now" in admin.text()
    admin.send("/teams")
    assert "invite link closed" in admin.text()
    ann = world.member("2")
    ann.send(f"/start {code}")
    assert "withdrawn" in ann.text() and teams_of(world, "2") == []
    admin.send("/invite riverside")
    assert invite_code(admin.text()) != code  # showing the link makes a new one


def test_a_link_can_be_used_up(world: World) -> None:
    new_team(world)
    team = find_team(world.directory, "riverside")
    ops, invite = rotate_invite(team, "cli", world.clock.now, max_uses=1)
    commit_ops(world.store, ops)
    ann, ben = world.member("2"), world.member("3")
    ann.send(f"/start {invite.code}")
    ben.send(f"/start {invite.code}")
    assert "already been used up" in ben.text()
    assert teams_of(world, "2") == ["riverside:member"] and teams_of(world, "3") == []


def test_a_link_can_expire(world: World) -> None:
    new_team(world)
    ops, invite = rotate_invite(find_team(world.directory, "riverside"), "cli", world.clock.now,
                                days=1)
    commit_ops(world.store, ops)
    world.clock.now += 2 * DAY
    ann = world.member("2")
    ann.send(f"/start {invite.code}")
    assert "has expired" in ann.text() and teams_of(world, "2") == []
    admin = world.chat(ADMIN.id)
    admin.send("/invite riverside")
    assert "Invite link for riverside" in admin.text()


def test_other_deep_links_are_left_to_other_features(world: World) -> None:
    ann = world.member("2")
    ann.send("/start somethingelse")
    assert "not valid" not in ann.text()


@pytest.mark.parametrize("text, answer", [
    ("/newteam", "Send /newteam NAME"),
    ("/newteam two words", "can't be used as a name"),
    ("/newteam " + "x" * 33, "can't be used as a name"),
    ("/newteam -dash", "can't be used as a name"),
])
def test_bad_team_names_change_nothing(world: World, text: str, answer: str) -> None:
    admin = world.member(ADMIN.id)
    admin.send(text)
    assert answer in admin.text()
    assert world.directory.teams() == []


def test_team_names_are_unique_ignoring_case(world: World) -> None:
    new_team(world, "riverside")
    admin = world.chat(ADMIN.id)
    admin.send("/newteam RiverSide")
    assert "already a team called RiverSide" in admin.text()
    assert len(world.directory.teams()) == 1


# ---------------------------------------------------------------------- members and managers
def test_coordinators_appoint_managers_by_member_code(world: World) -> None:
    code = new_team(world)
    ann = world.member("2")
    ann.send(f"/start {code}")
    ann.send("/myteams")
    member = re.search(r"member code is (m-[0-9a-f]{8})", ann.text())
    assert member is not None and "riverside" in ann.text()
    admin = world.chat(ADMIN.id)
    admin.send("/members riverside")
    assert member.group(1) in admin.text() and "members: 1" in admin.text()
    admin.tap(f"Make {member.group(1)} manager")
    assert f"{member.group(1)} is now a manager of riverside" in admin.text()
    assert teams_of(world, "2") == ["riverside:manager"]
    assert "manager" in world.roles.roles(UserKey("telegram", "2"))
    admin.send("/members riverside")
    assert "(manager)" in admin.text()
    admin.tap(f"Remove {member.group(1)} as manager")
    assert teams_of(world, "2") == ["riverside:member"]


def test_managers_see_their_own_team_only(world: World) -> None:
    code = new_team(world, "riverside")
    new_team(world, "hillside")
    ann = world.member("2")
    ann.send(f"/start {code}")
    commit_ops(world.store, find_and_appoint(world, "riverside", "2"))
    ann.send("/teams")
    assert "riverside" in ann.text() and "hillside" not in ann.text()
    ann.send("/members")  # a manager of one team gets it straight away, without buttons
    assert "Team riverside, members: 1" in ann.text() and "Done" not in ann.labels()
    ann.send("/members hillside")
    assert REFUSED in ann.text()
    ann.send("/invite")
    assert "Invite link for riverside" in ann.text()
    ann.send("/invite hillside rotate")
    assert REFUSED in ann.text()
    ann.send("/newteam mine")
    assert REFUSED in ann.text() and world.directory.team_named("mine") is None


def find_and_appoint(world: World, team: str, ident: str) -> list[Op]:
    found = find_team(world.directory, team)
    return appoint(world.directory, found, UserKey("telegram", ident), True, world.clock.now)


def test_members_picks_a_team_when_there_are_several(world: World) -> None:
    new_team(world, "riverside")
    new_team(world, "hillside")
    admin = world.chat(ADMIN.id)
    admin.send("/members")
    assert admin.labels() == ["hillside", "riverside", "Cancel"]
    admin.tap("riverside")
    assert "has no members yet" in admin.text()


def test_leaving_a_team_asks_first(world: World) -> None:
    code = new_team(world)
    ann = world.member("2")
    ann.send("/leave")
    assert "not in any team" in ann.text()
    ann.send(f"/start {code}")
    ann.send("/leave")
    assert "Leave team riverside?" in ann.text()
    ann.tap("No")
    assert teams_of(world, "2") == ["riverside:member"]
    ann.send("/leave riverside")
    ann.tap("Yes")
    assert "You have left team riverside" in ann.text() and teams_of(world, "2") == []


def test_leave_picks_among_several_teams(world: World) -> None:
    a, b = new_team(world, "riverside"), new_team(world, "hillside")
    ann = world.member("2")
    ann.send(f"/start {a}")
    ann.send(f"/start {b}")
    ann.send("/leave")
    ann.tap("hillside")
    assert teams_of(world, "2") == ["riverside:member"]
    ann.send("/leave nowhere")
    assert "not in a team called" in ann.text()


# ---------------------------------------------------------------------- cohorts
def test_cohorts_group_teams(world: World) -> None:
    new_team(world, "riverside")
    new_team(world, "hillside")
    admin = world.chat(ADMIN.id)
    admin.send("/cohort new north")
    admin.send("/cohort add north riverside")
    admin.send("/cohort add North hillside")
    admin.send("/cohort list")
    assert "north: riverside, hillside" in admin.text() or "north: hillside, riverside" in \
        admin.text()
    admin.send("/cohort remove north hillside")
    admin.send("/cohort")
    assert "north: riverside" in admin.text() and "hillside" not in admin.text()


@pytest.mark.parametrize("text, answer", [
    ("/cohort add nowhere riverside", "no cohort called \"nowhere\""),
    ("/cohort add north nowhere", "no team called \"nowhere\""),
    ("/cohort new bad/name", "can't be used as a name"),
    ("/cohort new north", "already a cohort called north"),
    ("/cohort frobnicate", "Cohorts are named sets of teams"),
])
def test_cohort_mistakes_change_nothing(world: World, text: str, answer: str) -> None:
    new_team(world, "riverside")
    admin = world.chat(ADMIN.id)
    admin.send("/cohort new north")
    admin.send(text)
    assert answer in admin.text()
    assert [(c.name, c.team_ids) for c in world.directory.cohorts()] == [("north", ())]


# ---------------------------------------------------------------------- roles
def test_admins_make_coordinators_with_a_one_time_link(world: World) -> None:
    admin = world.member(ADMIN.id)
    admin.send("/makecoordinator")
    code = invite_code(admin.text())
    assert "works once, within 7 days" in admin.text()
    ann, ben = world.member("2"), world.member("3")
    ann.send(f"/start {code}")
    assert "You are now a coordinator" in ann.text()
    assert world.roles.roles(UserKey("telegram", "2")) == {"coordinator"}
    ben.send(f"/start {code}")
    assert "already been used up" in ben.text() and not world.roles.roles(
        UserKey("telegram", "3"))
    ann.send("/newteam riverside")
    assert "Team riverside is ready" in ann.text()


def test_a_coordinator_opening_a_role_link_does_not_use_it_up(world: World) -> None:
    commit_ops(world.store, [GrantRole("telegram:2", "coordinator", None, 0.0)])
    admin = world.member(ADMIN.id)
    admin.send("/makecoordinator")
    code = invite_code(admin.text())
    ann = world.member("2")
    ann.send(f"/start {code}")
    assert "You are already a coordinator" in ann.text()
    assert world.directory.invite(code).uses == 0  # type: ignore[union-attr]


def test_admins_come_from_the_environment() -> None:
    assert parse_admins(" 12, 34;56 ,") == {"telegram:12", "telegram:34", "telegram:56"}
    assert parse_admins("") == frozenset() and parse_admins(None) == frozenset()
    with pytest.raises(AdminsError, match="CCBOT_ADMINS"):
        parse_admins("12,@bob")


def menu_for(roles: frozenset[str]) -> list[tuple[str, str]]:
    """The coordinator features' part of the menu a holder of `roles` sees."""
    personal = {c.name for c in PERSONAL_COMMANDS}
    return [(c, m) for c, m in commands.menu_for(ALL_COMMANDS, roles) if c not in personal]


def test_each_role_has_its_own_menu() -> None:
    member = [c for c, _ in menu_for(frozenset())]
    manager = [c for c, _ in menu_for(frozenset({"manager"}))]
    coordinator = [c for c, _ in menu_for(frozenset({"coordinator", "manager"}))]
    admin = [c for c, _ in menu_for(frozenset({"admin"}))]
    assert member == ["actions", "reminders", "myteams", "leave"]
    assert "broadcast" in manager and "newteam" not in manager
    assert "newteam" in coordinator and "makecoordinator" not in coordinator
    assert admin[-1] == "makecoordinator" and set(coordinator) < set(admin)


def test_every_menu_entry_is_a_command(world: World) -> None:
    names = set(world.engine.commands) - {c.name for c in PERSONAL_COMMANDS}
    assert {c for c, _ in menu_for(frozenset({"admin"}))} == names
    for _, message in menu_for(frozenset({"admin"})):
        assert len(world.content.text(message, "en")) <= 256


# ---------------------------------------------------------------------- the CLI
def test_cli_manages_roles_teams_and_cohorts(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "cli.db")]
    assert ccbot(["roles", "grant", "42", "coordinator", *db]) == 0
    assert ccbot(["roles", "list", *db]) == 0
    assert "telegram:42\tcoordinator" in capsys.readouterr().out
    assert ccbot(["roles", "revoke", "42", "coordinator", *db]) == 0
    assert ccbot(["teams", "create", "riverside", "--bot-username", "mybot", *db]) == 0
    assert "https://t.me/mybot?start=in-" in capsys.readouterr().out
    assert ccbot(["teams", "appoint", "riverside", "77", *db]) == 0
    assert ccbot(["teams", "members", "riverside", *db]) == 0
    assert re.search(r"telegram:77\tm-[0-9a-f]{8}\tmanager", capsys.readouterr().out)
    assert ccbot(["teams", "cohort", "create", "north", *db]) == 0
    assert ccbot(["teams", "cohort", "add", "north", "riverside", *db]) == 0
    assert ccbot(["teams", "cohort", "list", *db]) == 0
    assert ccbot(["teams", "list", *db]) == 0
    out = capsys.readouterr().out
    assert "north\triverside" in out and "riverside\tmembers 1\tmanagers 1\tlink open" in out
    assert ccbot(["teams", "rotate", "riverside", "--max-uses", "3", *db]) == 0
    assert ccbot(["teams", "revoke", "riverside", *db]) == 0
    assert ccbot(["teams", "list", *db]) == 0
    assert "link closed" in capsys.readouterr().out


def test_cli_mistakes_are_one_line_and_exit_2(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "cli.db")]
    assert ccbot(["teams", "members", "nowhere", *db]) == 2
    assert ccbot(["teams", "create", "bad name", *db]) == 2
    assert ccbot(["roles", "grant", "bob", "admin", *db]) == 2
    err = capsys.readouterr().err
    assert "no team called \"nowhere\"" in err and "can't be used as a name" in err
    assert "not a user" in err and "Traceback" not in err


@pytest.mark.slow
def test_the_real_command_line_reports_mistakes_without_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = str(tmp_path / "proc.db")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "teams", "create", "bad name",
                           "--db", db], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("ccbot: \"bad name\" can't be used as a name")


# ---------------------------------------------------------------------- wiring and content
def test_engine_parts_wire_admins_from_the_environment(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.storage.sqlite_store import SQLiteStore
    from bot.wiring import engine_parts

    store = SQLiteStore(tmp_path / "parts.db")
    try:
        monkeypatch.setenv("CCBOT_ADMINS", "1001")
        monkeypatch.setenv("CCBOT_BOT_USERNAME", "riverbot")
        parts = engine_parts(store)
        assert parts.roles.roles(UserKey("telegram", "1001")) == {"admin"}
        assert [f.prefix for f in parts.features] == ["practice", "remind", "dash", "tm", "bc",
                                                          "tv"]
        assert parts.features[3].bot_username == "riverbot"  # type: ignore[attr-defined]
        monkeypatch.setenv("CCBOT_ADMINS", "not-a-number")
        with pytest.raises(AdminsError, match="CCBOT_ADMINS"):
            engine_parts(store)
    finally:
        store.close()


ENGINE = Path(__file__).resolve().parent.parent / "bot"


def test_every_rejection_names_a_required_message() -> None:
    from bot.engine.messages import REQUIRED_MESSAGES

    raised: set[str] = set()
    for path in (ENGINE / "engine").rglob("*.py"):
        raised.update(re.findall(r'Rejected\(\s*"([a-z_.]+)"', path.read_text("utf-8")))
    assert raised and raised - set(REQUIRED_MESSAGES) == set()


def test_coordinator_messages_are_used_short_and_declared(content: Content) -> None:
    import yaml

    from bot.engine.core.commands import menu_messages
    from bot.engine.features.broadcasts.feature import BROADCAST_MESSAGES
    from bot.engine.features.teams.feature import TEAMS_MESSAGES

    menu = menu_messages(c for c in ALL_COMMANDS if c not in PERSONAL_COMMANDS)
    declared = set(TEAMS_MESSAGES + BROADCAST_MESSAGES + menu)
    source = "\n".join(p.read_text("utf-8") for p in ENGINE.rglob("*.py"))
    # Every declared id is used somewhere other than in the tuple declaring it.
    used = re.sub(r"_MESSAGES: tuple\[str, \.\.\.\] = \(.*?\n\)", "", source, flags=re.DOTALL)
    assert {m for m in declared if f'"{m}"' not in used} == set()
    folder = Path(__file__).resolve().parent.parent / "content" / "messages"
    for name in ("teams.yaml", "broadcasts.yaml"):
        messages = yaml.safe_load((folder / name).read_text("utf-8"))["messages"]
        for key, text in messages.items():
            assert key in declared, f"{name}: {key} is not used"
            assert "en" in text and all(len(v) <= 600 for v in text.values()), key


def test_mydata_on_sqlite_includes_team_membership(content: Content, tmp_path: Path) -> None:
    world = World(content, "sqlite", tmp_path / "mydata.db")
    try:
        code = new_team(world)
        ann = world.member("2")
        ann.send(f"/start {code}")
        ann.send("/mydata")
        document = ann.last.replies[0].document
        assert document is not None
        data = json.loads(document.data)
        assert [row["user_key"] for row in data["team_members"]] == ["telegram:2"]
        assert {"role_grants", "broadcast_answers", "broadcast_outbox", "digests"} <= set(data)
    finally:
        world.close()
