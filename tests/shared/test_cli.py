"""The ``convergeai`` command line, run in-process (and once as the installed console script),
and the logging set-up it uses: exit codes, one-line errors, no secret and no traceback shown."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

import shared.cli as cli
from shared.db import Database, make_engine
from shared.demo import DEMO_PASSWORD
from shared.logs import close_logging, log_file, redact, setup_logging
from shared.migrate import head_revision
from shared.models import Chatbot, Guest, Message, Role, User
from shared.services.auth import sign_in
from shared.settings import Settings, use_settings
from tests.factories import make_admin, make_user

STRONG = "plum-velvet-harbour-42"
SECRET_KEYS = ("hash", "password", "badge", "token", "secret")


@pytest.fixture(autouse=True)
def _close_logging() -> Iterator[None]:
    """Each CLI run installs log handlers into the test's folder; remove them afterwards."""
    yield
    close_logging()


def url_of(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_db(capsys: pytest.CaptureFixture[str], db: Database, *argv: str) -> tuple[int, str, str]:
    return run(capsys, "--database", url_of(db), *argv)


def assert_one_error_line(err: str, text: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith("convergeai: error: "), err
    assert text in err
    assert "Traceback" not in err


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# db --------------------------------------------------------------------------------------------


def test_db_upgrade_then_current_on_a_fresh_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}"
    code, out, _ = run(capsys, "--database", url, "db", "current")
    assert code == 1
    assert "no ConvergeAI tables yet" in out

    code, out, err = run(capsys, "--database", url, "db", "upgrade")
    assert (code, err) == (0, "")
    assert out == f"Database at {url} upgraded to revision {head_revision()}.\n"

    code, out, _ = run(capsys, "--database", url, "db", "upgrade")
    assert code == 0
    assert "already up to date" in out

    code, out, _ = run(capsys, "--database", url, "db", "current")
    assert code == 0
    assert f"up to date (revision {head_revision()})" in out


def test_db_commands_on_a_migrated_database(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_db(capsys, db, "db", "current")
    assert code == 0
    assert "up to date" in out
    code, out, _ = run_db(capsys, db, "db", "upgrade")
    assert code == 0
    assert "already up to date" in out
    assert db.describe() in out
    password = db.engine.url.password
    if password:  # a server's password is never shown
        assert f":{password}@" not in out


def test_commands_refuse_a_database_without_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, out, err = run(capsys, "--database", url, "demo")
    assert code == 1
    assert out == ""
    assert_one_error_line(err, "Run `convergeai db upgrade` to create them.")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://convergeai:Hunter2-secret@127.0.0.1:1/convergeai",
        "mysql://convergeai:Hunter2-secret@127.0.0.1:1/convergeai",
    ],
    ids=["postgresql-down", "mysql-down"],
)
def test_unreachable_database_gives_one_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--database", url, "events", "list")
    assert code == 1
    assert out == ""
    assert_one_error_line(err, "Cannot reach the database at")
    assert "Hunter2-secret" not in err


def test_database_folder_that_cannot_be_made_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "--database", f"sqlite:///{blocker / 'x.db'}", "db", "upgrade")
    assert code == 1
    assert_one_error_line(err, "Cannot open the database")


# demo ------------------------------------------------------------------------------------------


def test_demo_twice_is_a_no_op_the_second_time(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_db(capsys, db, "demo")
    assert (code, err) == (0, "")
    assert "Demo conference loaded." in out
    assert f"username maya.patel  password {DEMO_PASSWORD}" in out
    counts = {m.__name__: count(db, m) for m in (Chatbot, Guest, User, Message)}
    assert counts["Chatbot"] == 3
    assert counts["Guest"] >= 12
    assert counts["Message"] > 0

    code, out, err = run_db(capsys, db, "demo")
    assert (code, err) == (0, "")
    assert "already loaded; nothing changed" in out
    assert DEMO_PASSWORD not in out  # sign-in help only on the first load
    assert {m.__name__: count(db, m) for m in (Chatbot, Guest, User, Message)} == counts


# create-admin ----------------------------------------------------------------------------------


def test_create_admin_reads_the_password_from_stdin(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ("create-admin", "boss", "--email", "Boss@Example.org", "--password-stdin")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, out, err = run_db(capsys, db, *argv)
    assert code == 1
    assert out == ""
    assert_one_error_line(err, "Password must be at least 8 characters long.")
    assert count(db, User) == 0

    monkeypatch.setattr(sys, "stdin", io.StringIO("password1\n"))
    code, _, err = run_db(capsys, db, *argv)
    assert code == 1
    assert_one_error_line(err, "too common")

    monkeypatch.setattr(sys, "stdin", io.StringIO(STRONG + "\n"))
    code, out, err = run_db(capsys, db, *argv, "--name", "Bea Oss")
    assert (code, out, err) == (0, "Organizer account boss created.\n", "")
    with db.read() as s:
        user = s.scalars(select(User)).one()
        assert (user.username, user.email, user.name, user.role) == (
            "boss",
            "boss@example.org",
            "Bea Oss",
            Role.ADMIN.value,
        )
    assert sign_in(db, "boss", STRONG).user.role is Role.ADMIN

    monkeypatch.setattr(sys, "stdin", io.StringIO(STRONG + "\n"))
    code, _, err = run_db(
        capsys, db, "create-admin", "boss", "--email", "other@example.org", "--password-stdin"
    )
    assert code == 1
    assert_one_error_line(err, "The username 'boss' is taken.")
    assert count(db, User) == 1


def test_create_admin_prompts_twice_without_echo(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([STRONG, STRONG + "x", STRONG, STRONG])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(cli.getpass, "getpass", fake_getpass)
    code, _, err = run_db(capsys, sqlite_db, "create-admin", "ops", "--email", "ops@example.com")
    assert code == 1
    assert_one_error_line(err, "The passwords do not match.")
    code, out, _ = run_db(capsys, sqlite_db, "create-admin", "ops", "--email", "ops@example.com")
    assert code == 0
    assert out == "Organizer account ops created.\n"
    assert len(prompts) == 4
    assert STRONG not in out


def test_create_admin_checks_the_username_before_asking(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_prompt(prompt: str = "") -> str:
        raise AssertionError("asked for a password for an invalid account")

    monkeypatch.setattr(cli.getpass, "getpass", no_prompt)
    code, _, err = run_db(capsys, sqlite_db, "create-admin", "x", "--email", "x@example.com")
    assert code == 1
    assert_one_error_line(err, "Username must be 3 to 32 characters")


# events ----------------------------------------------------------------------------------------


def test_events_create_needs_an_organizer(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    make_user(db, "attendee1")
    code, out, err = run_db(
        capsys,
        db,
        "events",
        "create",
        "Guide",
        "--event-name",
        "Expo",
        "--start",
        "2026-05-01",
        "--end",
        "2026-05-02",
    )
    assert code == 1
    assert out == ""
    assert err == (
        "convergeai: error: Create an organizer first: "
        "convergeai create-admin USERNAME --email EMAIL\n"
    )
    assert count(db, Chatbot) == 0


def test_events_create_and_list(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    admin = make_admin(db)
    base = ("events", "create", "Expo Guide", "--event-name", "Expo 2026")

    code, _, err = run_db(capsys, db, *base, "--start", "2026-05-01", "--end", "2026-02-30")
    assert code == 1
    assert_one_error_line(err, "End date must be a date (YYYY-MM-DD).")
    code, _, err = run_db(capsys, db, *base, "--start", "2026-05-03", "--end", "2026-05-01")
    assert code == 1
    assert_one_error_line(err, "The end date cannot be before the start date.")
    code, _, err = run_db(
        capsys, db, *base, "--start", "2026-05-01", "--end", "2026-05-02", "--no-single-mode"
    )
    assert code == 1
    assert_one_error_line(err, "Choose at least one mode")
    assert count(db, Chatbot) == 0

    code, out, err = run_db(
        capsys,
        db,
        *base,
        "--start",
        "2026-05-01",
        "--end",
        "2026-05-03",
        "--description",
        "Hall 4",
        "--private",
        "--multiple-mode",
        "--system-prompt",
        "Answer briefly.",
    )
    assert (code, err) == (0, "")
    with db.read() as s:
        bot = s.scalars(select(Chatbot)).one()
        bot_id = bot.id
        assert out == f"Event assistant 'Expo Guide' created with id {bot_id}.\n"
        assert (bot.public, bot.single_mode, bot.multiple_mode) == (False, True, True)
        assert bot.system_prompt == "Answer briefly."
        assert bot.created_by_id == admin.user_id

    code, out, err = run_db(capsys, db, "events", "list", "--json")
    assert (code, err) == (0, "")
    (item,) = json.loads(out)
    assert item == {
        "id": bot_id,
        "name": "Expo Guide",
        "event_name": "Expo 2026",
        "start_date": "2026-05-01",
        "end_date": "2026-05-03",
        "status": item["status"],
        "public": False,
        "active": True,
        "modes": ["single", "multiple"],
        "guests": 0,
        "participants": 0,
        "messages": 0,
    }
    assert item["status"] in ("upcoming", "active", "ended")

    code, out, _ = run_db(capsys, db, "events", "list")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == [
        "ID",
        "NAME",
        "EVENT",
        "START",
        "END",
        "STATUS",
        "PUBLIC",
        "MODES",
        "PARTICIPANTS",
        "MESSAGES",
    ]
    assert "Expo Guide" in row
    assert "single+multiple" in row
    assert row.index("2026-05-01") == header.index("START")  # aligned columns


def test_events_list_of_the_demo(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    run_db(capsys, db, "demo")
    make_admin(db)
    code, out, _ = run_db(capsys, db, "events", "list", "--json")
    assert code == 0
    items = {i["name"]: i for i in json.loads(out)}
    main = items["Converge Summit Guide"]
    assert main["status"] == "active"
    assert main["participants"] >= 20
    assert main["messages"] > 0
    assert main["modes"] == ["single", "multiple"]


def test_events_create_reads_the_prompt_file(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make_admin(sqlite_db)
    base = (
        "events",
        "create",
        "G",
        "--event-name",
        "E",
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-01",
    )
    code, _, err = run_db(capsys, sqlite_db, *base, "--system-prompt-file", str(tmp_path / "no"))
    assert code == 1
    assert_one_error_line(err, "Cannot read the system prompt file")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Be kind.\nBe brief.\n", encoding="utf-8")
    code, _, _ = run_db(capsys, sqlite_db, *base, "--system-prompt-file", str(prompt))
    assert code == 0
    with sqlite_db.read() as s:
        assert s.scalar(select(Chatbot.system_prompt)) == "Be kind.\nBe brief."


# users -----------------------------------------------------------------------------------------


def test_users_list_search_json_has_no_secret(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    make_admin(db, "organizer")
    make_user(db, "ana.silva", name="Ana Silva")
    make_user(db, "hanako", name="Hanako Sato", email="h.sato@example.com")
    make_user(db, "bob", name="Bob Stone")

    code, out, err = run_db(capsys, db, "users", "list", "--search", "ANA", "--json")
    assert (code, err) == (0, "")
    users = json.loads(out)
    assert [u["username"] for u in users] == ["ana.silva", "hanako"]  # by name
    for user in users:
        assert not [k for k in user if any(word in k for word in SECRET_KEYS)]
        assert set(user) >= {"id", "username", "email", "name", "role", "active"}
    assert users[0]["role"] == "attendee"
    assert users[0]["active"] is True

    code, out, _ = run_db(capsys, db, "users", "list", "--role", "admin", "--json")
    assert [u["username"] for u in json.loads(out)] == ["organizer"]

    code, out, _ = run_db(capsys, db, "users", "list", "--search", "nobody-like-this", "--json")
    assert (code, json.loads(out)) == (0, [])


def test_users_list_pages_through_everyone(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_admin(db, "organizer")
    for n in range(7):
        make_user(db, f"member{n}", name=f"Member {n}")
    monkeypatch.setattr(cli, "PAGE_SIZE", 3)

    code, out, _ = run_db(capsys, db, "users", "list", "--json")
    assert code == 0
    assert len(json.loads(out)) == 8

    code, out, _ = run_db(capsys, db, "users", "list", "--role", "attendee")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "USERNAME", "EMAIL", "NAME", "ROLE", "ACTIVE"]
    assert [line.split()[1] for line in lines[1:-1]] == [f"member{n}" for n in range(7)]
    assert lines[-1] == "7 users."


# config ----------------------------------------------------------------------------------------


def test_config_show_masks_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "CONVERGEAI_DATABASE_URL", "postgresql://convergeai:S3cret-db-pw@db.example.org/conv"
    )
    monkeypatch.setenv("CONVERGEAI_AUTH_BADGE_KEY", "badge-key-that-must-not-show")
    use_settings(Settings.load())

    code, out, err = run(capsys, "config", "show")
    assert (code, err) == (0, "")
    assert "S3cret-db-pw" not in out
    assert "badge-key-that-must-not-show" not in out
    assert "postgresql://convergeai:***@db.example.org/conv" in out
    assert "Database:    postgresql+psycopg://convergeai:***@db.example.org/conv" in out
    assert "(not found)" in out
    rows = {
        line.split()[0]: line
        for line in out.splitlines()
        if line.startswith(("auth.", "database."))
    }
    assert "********" in rows["auth.badge_key"]
    assert "environment CONVERGEAI_AUTH_BADGE_KEY" in rows["auth.badge_key"]
    assert "environment CONVERGEAI_DATABASE_URL" in rows["database.url"]
    # aligned: every setting's value starts in the same column
    table = out.split("\n\n", 1)[1].splitlines()
    value_col = table[0].index("VALUE")
    assert all(line[value_col - 2 : value_col] == "  " for line in table)

    code, out, _ = run(capsys, "--database", "mysql://root:Other-pw@h/db", "config", "show")
    assert code == 0
    assert "Other-pw" not in out
    assert "mysql+pymysql://root:***@h/db?charset=utf8mb4  [--database option]" in out


def test_config_show_names_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[log]\nlevel = "DEBUG"\n', encoding="utf-8")
    monkeypatch.setenv("CONVERGEAI_CONFIG", str(config))
    use_settings(None)
    code, out, _ = run(capsys, "config", "show")
    assert code == 0
    assert f"Config file: {config}\n" in out
    assert f"config file {config}" in next(x for x in out.splitlines() if x.startswith("log.level"))


def test_a_malformed_setting_gives_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVERGEAI_LOG_LEVEL", "LOUD")
    use_settings(None)
    code, _, err = run(capsys, "config", "show")
    assert code == 1
    assert_one_error_line(err, "Setting log.level from environment CONVERGEAI_LOG_LEVEL")


# Errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nope"],
        ["db"],
        ["events", "create", "Only a name"],
        ["users", "list", "--role", "superuser"],
        ["demo", "--unknown"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "convergeai" in err
    assert "error:" in err
    assert "Traceback" not in err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("db", "config", "create-admin", "events", "users", "demo", "--database"):
        assert word in out
    code, out, _ = run(capsys, "--version")
    assert (code, out) == (0, "convergeai 0.1.0\n")


def test_internal_error_is_logged_and_shown_in_one_line(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db: Database) -> None:
        raise RuntimeError("boom with password=hunter2\nand a second line")

    monkeypatch.setattr(cli, "load_demo", broken)
    code, out, err = run_db(capsys, sqlite_db, "demo")
    assert code == 70
    assert out == ""
    logfile = log_file()
    assert logfile is not None
    assert err == (
        f"convergeai: internal error: RuntimeError: boom with password=*** (details in {logfile})\n"
    )
    text = logfile.read_text("utf-8")
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: boom" in text
    assert "hunter2" not in text


def test_keyboard_interrupt_exits_130_quietly(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(db: Database) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "load_demo", interrupted)
    assert run_db(capsys, sqlite_db, "demo") == (130, "", "")


def test_the_database_option_does_not_outlive_the_run(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = Database(make_engine(f"sqlite:///{tmp_path / 'other.db'}"))
    code, _, _ = run(capsys, "--database", url_of(other), "db", "upgrade")
    assert code == 0
    other.dispose()
    from shared import db as dbmod

    assert dbmod._database is None  # the run's database was closed, not left installed


# Logging ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("url postgresql://app:pa55@db:5432/x", "pa55", "postgresql://app:***@db:5432/x"),
        ("Authorization: Bearer abc.DEF-123", "abc.DEF-123", "Authorization: Bearer ***"),
        ("sent password=hunter2 ok", "hunter2", "password=*** ok"),
        ('{"api_key": "sk-live-1"}', "sk-live-1", '"api_key": ***'),
        ("token=t0k3n&user=3", "t0k3n", "token=***&user=3"),
        ("badge 7K3Q-M2XD-9TRB-4HNA-ZC8W used", "7K3Q", "badge ****-****-****-****-**** used"),
        ("badge 7k3q-m2xd-9trb-4hna-zc8w", "7k3q", "****-****-****-****-****"),
    ],
)
def test_redact(text: str, hidden: str, kept: str) -> None:
    clean = redact(text)
    assert hidden not in clean
    assert kept in clean


def test_redact_leaves_ordinary_text_alone() -> None:
    for text in (
        "http://localhost:8080/v1/models",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "Password must be at least 8 characters long.",
        "user:42 failed sign-in on device kiosk-3",
    ):
        assert redact(text) == text


def test_setup_logging_writes_a_redacted_rotating_file(tmp_path: Path) -> None:
    path = setup_logging("kiosk", level="DEBUG")
    assert path == log_file()
    assert path.name == "kiosk.log"
    assert path.parent == Path(os.environ["XDG_STATE_HOME"]) / "convergeai" / "log"
    logging.getLogger("convergeai.auth").debug("login with password=%s", "s3cr3t")
    try:
        raise ValueError("token=abc123")
    except ValueError:
        logging.getLogger("convergeai.kiosk").exception("failed")
    setup_logging("kiosk", level="DEBUG")  # again: replaces, never duplicates, its handlers
    logging.getLogger("convergeai.db").info("once")
    text = path.read_text("utf-8")
    assert "login with password=***" in text
    assert "s3cr3t" not in text
    assert "abc123" not in text
    assert "ValueError: token=***" in text
    assert text.count("once") == 1


def test_setup_logging_falls_back_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CONVERGEAI_LOG_DIR", str(blocker / "logs"))
    use_settings(None)
    path = setup_logging("admin")
    assert path == blocker / "logs" / "admin.log"
    assert log_file() is None
    err = capsys.readouterr().err
    assert "cannot write the log file, logging to stderr only" in err

    # The CLI still works, and a bug is still one line (no traceback on the terminal).
    def broken(db: Database) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "load_demo", broken)
    code, _, err = run(capsys, "--database", f"sqlite:///{tmp_path / 'x.db'}", "db", "current")
    assert code == 1
    code, _, err = run(capsys, "--database", f"sqlite:///{tmp_path / 'x.db'}", "db", "upgrade")
    assert code == 0
    code, _, err = run(capsys, "--database", f"sqlite:///{tmp_path / 'x.db'}", "demo")
    assert code == 70
    assert "Traceback" not in err
    assert err.endswith(
        "convergeai: internal error: RuntimeError: boom (no log file could be written)\n"
    )


# The installed entry point ---------------------------------------------------------------------


def test_console_script_and_python_m(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "convergeai"
    assert script.exists(), "the convergeai console script is not installed (pip install -e .)"
    env = dict(os.environ)
    for kind in ("DATA", "CONFIG", "STATE", "CACHE"):
        env[f"XDG_{kind}_HOME"] = str(tmp_path / "xdg" / kind.lower())
    env["CONVERGEAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"

    def call(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    result = call(str(script), "--help")
    assert result.returncode == 0, result.stderr
    assert "create-admin" in result.stdout

    result = call(str(script), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert f"upgraded to revision {head_revision()}" in result.stdout
    assert (tmp_path / "xdg" / "state" / "convergeai" / "log" / "cli.log").is_file()

    result = call(sys.executable, "-m", "shared", "db", "current")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout

    result = call(str(script), "events", "list")
    assert result.returncode == 1
    assert result.stderr == f"convergeai: error: {cli.NO_ORGANIZER}\n"
