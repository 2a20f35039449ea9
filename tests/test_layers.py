"""The layers: the core never imports Qt; the two apps never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_the_core_never_imports_qt_or_shared_ui() -> None:
    offenders = []
    for path in python_files("shared"):
        if (ROOT / "shared" / "ui") in path.parents:
            continue
        for name in imports_of(path):
            if name.split(".")[0] == "PySide6" or name.startswith("shared.ui"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_shared_ui_does_not_import_the_apps() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files("shared/ui")
        for name in imports_of(path)
        if name.split(".")[0] in ("kiosk", "admin_console")
    ]
    assert not offenders, "\n".join(offenders)


def test_the_apps_do_not_import_each_other() -> None:
    offenders = []
    for app, other in (("kiosk", "admin_console"), ("admin_console", "kiosk")):
        if not (ROOT / app).is_dir():
            continue
        offenders += [
            f"{path.relative_to(ROOT)} imports {name}"
            for path in python_files(app)
            for name in imports_of(path)
            if name.split(".")[0] == other
        ]
    assert not offenders, "\n".join(offenders)
