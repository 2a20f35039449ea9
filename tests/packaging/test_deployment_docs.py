"""docs/deployment.md embeds the settings reference generated from shared/settings.py: it must
never go stale. ``python -m tests.packaging.test_deployment_docs`` rewrites the embedded copy."""

from __future__ import annotations

import sys
from pathlib import Path

from shared.settings import SETTINGS, settings_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
BEGIN = "<!-- settings-reference:begin -->"
END = "<!-- settings-reference:end -->"


def embedded_reference() -> str:
    """settings_markdown() with every heading one level down (it sits inside the guide)."""
    lines = settings_markdown().strip("\n").splitlines()
    return "\n".join("#" + line if line.startswith("#") else line for line in lines)


def current_section(text: str) -> str:
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:stop].strip("\n")


def rewrite(path: Path = DOC) -> None:
    text = path.read_text(encoding="utf-8")
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n" + embedded_reference() + "\n" + text[stop:], "utf-8")


def test_deployment_guide_embeds_the_generated_settings_reference():
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1
    assert text.count(END) == 1
    assert current_section(text) == embedded_reference(), (
        "docs/deployment.md is out of date: run python -m tests.packaging.test_deployment_docs"
    )
    for setting in SETTINGS:
        assert f"### `{setting.key}`" in text


def test_deployment_guide_covers_what_it_must():
    text = DOC.read_text(encoding="utf-8")
    for needle in (
        "db create-roles",
        "auth.badge_key",
        "sqlite3",
        ".backup",
        "pg_dump",
        "Shell Launcher",
        "Assigned Access",
        "convergeai-kiosk.service",
        "database first, then the apps",
        "~/.local/state/convergeai/log/",
        "build.spec",
    ):
        assert needle in text, needle


if __name__ == "__main__":
    rewrite()
    print(f"rewrote the settings reference in {DOC}", file=sys.stderr)
