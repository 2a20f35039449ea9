"""The import benchmark runs end to end on a tiny file and writes only its own section."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import main
from bench.common import read_section


def test_imports_benchmark_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n<!-- bench:core -->\nkept\n<!-- /bench:core -->\n")
    code = main(
        [
            "--only",
            "imports",
            "--backends",
            "sqlite",
            "--users",
            "300",
            "--repeat",
            "1",
            "--out",
            str(out),
            "--data-dir",
            str(tmp_path / "data"),
        ]
    )
    assert code == 0
    section = read_section(out, "imports")
    assert section is not None
    assert "### SQLite" in section
    assert "300 created, 300 enrolled" in section
    assert "QR code picture each" in section
    assert read_section(out, "core") == "kept"
