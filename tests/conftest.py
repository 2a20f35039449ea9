"""Test set-up: isolated settings and folders, and one database per backend.

Tests that take the ``db`` fixture run on SQLite, PostgreSQL and MariaDB/MySQL. The networked
servers come from ``make test`` (``scripts/dbservers.sh``), which exports
``CONVERGEAI_TEST_POSTGRES_URL`` and ``CONVERGEAI_TEST_MYSQL_URL`` and sets
``CONVERGEAI_REQUIRE_ALL_BACKENDS=1`` so a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from shared import db as dbmod  # noqa: E402
from shared.db import Database, make_engine  # noqa: E402
from shared.migrate import upgrade  # noqa: E402
from shared.models import Base  # noqa: E402
from shared.settings import Settings, use_settings  # noqa: E402

BACKENDS = ("sqlite", "postgresql", "mysql")
BACKEND_ENV = {
    "postgresql": "CONVERGEAI_TEST_POSTGRES_URL",
    "mysql": "CONVERGEAI_TEST_MYSQL_URL",
}
TEST_ENV = {
    "CONVERGEAI_AUTH_BCRYPT_COST": "4",
    "CONVERGEAI_AUTH_BADGE_KEY": "test-badge-key-0123456789abcdef",
    "CONVERGEAI_EVENT_TIMEZONE": "Europe/Paris",
    "CONVERGEAI_KIOSK_NAME": "test-kiosk",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a Qt application as ``gui``."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "qtbot" in names or "qapp" in names:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _no_leftover_windows(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a GUI test that leaves a visible top-level window behind (napari's conftest)."""
    yield
    names = request.fixturenames
    if "qtbot" not in names and "qapp" not in names:
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    leftover = [w for w in app.topLevelWidgets() if w.isVisible()]
    for widget in leftover:
        widget.close()
        widget.deleteLater()
    assert not leftover, f"test left windows open: {leftover}"


def backend_url(backend: str) -> str | None:
    """The server URL for a networked backend, or None (skip, unless all are required)."""
    url = os.environ.get(BACKEND_ENV[backend])
    if url:
        return url
    message = f"{BACKEND_ENV[backend]} is not set: no {backend} server for this run"
    if os.environ.get("CONVERGEAI_REQUIRE_ALL_BACKENDS") == "1":
        pytest.fail(message)
    pytest.skip(message)
    return None


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings from TEST_ENV only, and the user folders inside the test's tmp_path."""
    for var in list(os.environ):
        if (
            var.startswith("CONVERGEAI_")
            and not var.startswith("CONVERGEAI_TEST_")
            and var not in ("CONVERGEAI_REQUIRE_ALL_BACKENDS",)
        ):
            monkeypatch.delenv(var)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for kind in ("DATA", "CONFIG", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / "xdg" / kind.lower()))
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CONVERGEAI_CONFIG", str(tmp_path / "no-config.toml"))
    settings = Settings.load()
    use_settings(settings)
    yield settings
    use_settings(None)
    dbmod.set_database(None)


class ServerDatabase:
    """A throw-away database on a server, migrated once, emptied between tests."""

    def __init__(self, backend: str, server_url: str) -> None:
        self.backend = backend
        url = make_url(server_url)
        self.name = f"convergeai_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(
                    text(f"CREATE DATABASE \"{self.name}\" ENCODING 'UTF8' TEMPLATE template0")
                )
            else:
                conn.execute(
                    text(
                        f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_unicode_ci"
                    )
                )
        self.url = url.set(database=self.name)
        self.database = Database(make_engine(self.url))
        upgrade(self.database)

    def empty(self) -> None:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.database.engine.begin() as conn:
            if self.backend == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM `{table}`"))

    def drop(self) -> None:
        self.database.dispose()
        with self.admin.connect() as conn:
            if self.backend == "postgresql":
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{self.name}`"))
        self.admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database(make_engine(f"sqlite:///{path}"))
    upgrade(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


_servers: dict[str, ServerDatabase] = {}


@pytest.fixture(scope="session", autouse=True)
def _drop_server_databases() -> Iterator[None]:
    yield
    for server in _servers.values():
        server.drop()
    _servers.clear()


def server_database(backend: str) -> ServerDatabase:
    if backend not in _servers:
        url = backend_url(backend)
        assert url is not None
        _servers[backend] = ServerDatabase(backend, url)
    return _servers[backend]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name; tests that take it run once per backend."""
    return str(request.param)


@pytest.fixture
def db(backend: str, sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database on each backend, also installed as the process-wide one."""
    if backend == "sqlite":
        path = tmp_path / "convergeai.db"
        shutil.copyfile(sqlite_template, path)
        database = Database(make_engine(f"sqlite:///{path}"))
        dbmod.set_database(database)
        yield database
        dbmod.set_database(None)
        database.dispose()
        return
    server = server_database(backend)
    server.empty()
    dbmod.set_database(server.database)
    yield server.database
    dbmod._database = None  # the server database is shared by the session; do not dispose


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated SQLite database (for tests that need only one backend)."""
    path = tmp_path / "convergeai.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(make_engine(f"sqlite:///{path}"))
    dbmod.set_database(database)
    yield database
    dbmod.set_database(None)
    database.dispose()
