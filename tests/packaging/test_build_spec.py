"""build.spec's filter of Qt files, on Linux- and Windows-style bundle paths, and the scripts
the packaging relies on (the real build is `make package-test`, run by CI)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """build.spec's definitions, up to (not including) the Analysis."""
    text = (ROOT / "build.spec").read_text(encoding="utf-8")
    head = text.split("\nentry = str(", 1)[0]
    namespace: dict[str, Any] = {"SPECPATH": str(ROOT), "__name__": "build_spec"}
    exec(compile(head, "build.spec", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6OpenGL.so.6",
        "PySide6/Qt/lib/libQt6Charts.so.6",
        "PySide6/Qt/lib/libQt6VirtualKeyboard.so.6",
        "PySide6/Qt/lib/libQt6Multimedia.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        "PySide6/Qt/qml/QtQuick/VirtualKeyboard/Styles/Builtin/libqtvkbbuiltinstylesplugin.so",
        "PySide6/Qt/qml/QtQuick/qmldir",
        "PySide6/Qt/qml/QtQml/WorkerScript/qmldir",
        "PySide6/QtCharts.abi3.so",
        "PySide6\\plugins\\platforms\\qwindows.dll",
        "PySide6\\Qt6OpenGL.dll",
        "PySide6\\qml\\QtQuick\\VirtualKeyboard\\qmldir",
        "shared/migrations/env.py",
        "resources/kiosk/keyboard.qml",
    ],
)
def test_spec_keeps_what_the_apps_load(spec: dict[str, Any], dest: str) -> None:
    assert not spec["_excluded"](dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platforms/libqwayland-egl.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
        "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "PySide6/Qt/lib/libQt6WebEngineCore.so.6",
        "PySide6/Qt/lib/libQt63DRender.so.6",
        "PySide6/Qt/lib/libavcodec.so.61",
        "PySide6/Qt/qml/QtQuick3D/qmldir",
        "PySide6/Qt/qml/QtQuick/Controls/qmldir",
        "PySide6\\plugins\\platforms\\qdirect2d.dll",
        "PySide6\\Qt6Pdf.dll",
        "PySide6\\avcodec-61.dll",
        "PySide6\\qml\\QtWebEngine\\qmldir",
    ],
)
def test_spec_drops_what_they_never_load(spec: dict[str, Any], dest: str) -> None:
    assert spec["_excluded"](dest)


def test_spec_collects_the_migrations_as_files(spec: dict[str, Any]) -> None:
    datas = {Path(src).name for src, _dest in spec["datas"]}
    assert {"env.py", "script.py.mako", "0001_initial_schema.py", "keyboard.qml"} <= datas
    assert all("__pycache__" not in src for src, _dest in spec["datas"])


def test_package_scripts_parse() -> None:
    for script in ("scripts/package-test.sh", "packaging/linux/install.sh"):
        subprocess.run(["bash", "-n", str(ROOT / script)], check=True)
    shown = subprocess.run(
        ["bash", str(ROOT / "scripts/package-test.sh"), "--help"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "--worktree" in shown.stdout


def test_linux_unit_restarts_the_kiosk() -> None:
    unit = (ROOT / "packaging/linux/convergeai-kiosk.service").read_text(encoding="utf-8")
    assert "Restart=always" in unit
    assert "RestartSec=" in unit
    assert "ExecStart=@PREFIX@/convergeai-kiosk" in unit
    for entry in ("convergeai-kiosk.desktop", "convergeai-admin.desktop"):
        text = (ROOT / "packaging/linux" / entry).read_text(encoding="utf-8")
        assert text.startswith("[Desktop Entry]")
        assert "Exec=@PREFIX@/" in text
