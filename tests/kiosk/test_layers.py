"""The kiosk sits on shared/ and shared/ui only: never the admin console."""

from __future__ import annotations

import ast
from pathlib import Path

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


def test_kiosk_never_imports_the_admin_console() -> None:
    offenders = []
    for path in KIOSK.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("admin_console")]
    assert offenders == []


def test_no_colour_is_hardcoded_outside_the_style_sheet() -> None:
    import re

    pattern = re.compile(r"#[0-9a-fA-F]{6}\b|QColor\(\s*\d")
    found = [
        f"{p.name}: {m.group(0)}"
        for p in KIOSK.rglob("*.py")
        for m in pattern.finditer(p.read_text(encoding="utf-8"))
    ]
    assert found == []
