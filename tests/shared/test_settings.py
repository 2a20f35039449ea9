"""Settings: declared once; environment > config file > default; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import SETTINGS, Settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_setting_is_declared_with_a_description_and_a_valid_default() -> None:
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))
    for setting in SETTINGS:
        assert setting.description.endswith(".")
        assert "." in setting.key
    defaults = Settings.load(env={}, config_path=Path("/nonexistent.toml"))
    assert all(v.source == "default" for v in defaults.values.values())


def test_precedence_environment_then_file_then_default(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml",
        '[auth]\nbcrypt_cost = 10\nsession_days = 7\n[database]\nurl = "sqlite:///from-file.db"\n',
    )
    env = {"CONVERGEAI_AUTH_BCRYPT_COST": "11"}
    settings = Settings.load(env=env, config_path=config)
    assert settings["auth.bcrypt_cost"] == 11
    assert settings.source("auth.bcrypt_cost") == "environment CONVERGEAI_AUTH_BCRYPT_COST"
    assert settings["auth.session_days"] == 7
    assert settings.source("auth.session_days") == f"config file {config}"
    assert settings["auth.max_failures"] == 5
    assert settings.source("auth.max_failures") == "default"
    assert settings.database_url() == "sqlite:///from-file.db"


def test_database_url_falls_back_to_the_seeds_variable(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    seed = Settings.load(env={"DATABASE_URL": "postgresql://a@b/c"}, config_path=missing)
    assert seed.database_url() == "postgresql://a@b/c"
    both = Settings.load(
        env={"DATABASE_URL": "postgresql://a@b/c", "CONVERGEAI_DATABASE_URL": "mysql://x@y/z"},
        config_path=missing,
    )
    assert both.database_url() == "mysql://x@y/z"
    default = Settings.load(env={}, config_path=missing)
    assert default.database_url().startswith("sqlite:///")
    assert default.database_url().endswith("convergeai.db")


def test_config_path_from_environment(tmp_path: Path) -> None:
    config = write(tmp_path / "site.toml", '[kiosk]\nname = "booth-12"\n')
    settings = Settings.load(env={"CONVERGEAI_CONFIG": str(config)})
    assert settings.config_path == config
    assert settings.config_found
    assert settings.kiosk_name() == "booth-12"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONVERGEAI_AUTH_BCRYPT_COST": "twelve"}, "expected a whole number"),
        ({"CONVERGEAI_AUTH_BCRYPT_COST": "40"}, "at most 16"),
        ({"CONVERGEAI_LOG_LEVEL": "LOUD"}, "one of DEBUG"),
        ({"CONVERGEAI_EVENT_TIMEZONE": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_values_name_the_setting_and_its_origin(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        Settings.load(env=env, config_path=tmp_path / "none.toml")
    assert "environment CONVERGEAI_" in str(info.value)


def test_bad_config_files_are_refused_clearly(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.toml", "[auth\nbcrypt_cost = ")
    with pytest.raises(ConfigError, match="Cannot read the config file"):
        Settings.load(env={}, config_path=broken)
    unknown = write(tmp_path / "unknown.toml", "[auth]\nbcrypt_costs = 3\n")
    with pytest.raises(ConfigError, match="Unknown setting.*auth.bcrypt_costs"):
        Settings.load(env={}, config_path=unknown)
    wrong_type = write(tmp_path / "type.toml", '[auth]\nbcrypt_cost = "high"\n')
    with pytest.raises(ConfigError, match="config file"):
        Settings.load(env={}, config_path=wrong_type)


def test_secrets_are_masked_for_display(tmp_path: Path) -> None:
    settings = Settings.load(
        env={
            "CONVERGEAI_DATABASE_URL": "postgresql://kiosk:s3cr3t@db.venue/convergeai",
            "CONVERGEAI_AUTH_BADGE_KEY": "very-secret-key",
        },
        config_path=tmp_path / "none.toml",
    )
    url = settings.values["database.url"].display()
    assert "s3cr3t" not in url
    assert "kiosk" in url
    assert "db.venue" in url
    assert settings.values["auth.badge_key"].display() == "********"


def test_docs_settings_md_is_generated_from_the_declarations() -> None:
    from shared.settings import settings_markdown

    path = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
    assert path.read_text(encoding="utf-8") == settings_markdown(), (
        "docs/settings.md is stale: run `.venv/bin/convergeai config docs > docs/settings.md`"
    )
