"""Pack the PyInstaller bundle (``dist/convergeai/``) into ``dist/convergeai-<version>-<platform>``
(``.tar.gz``, or ``.zip`` on Windows), with the Linux desktop files and installer beside it.

Run by ``make package`` after ``pyinstaller build.spec``; prints the archive's path.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def version() -> str:
    """``shared.__version__``, read without importing the package (no dependency needed)."""
    for line in (ROOT / "shared" / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise SystemExit("archive.py: no __version__ in shared/__init__.py")


def platform_tag() -> str:
    """``linux-x86_64``, ``windows-amd64``, ``macos-arm64``..."""
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    system = "linux" if system.startswith("linux") else system
    return f"{system}-{platform.machine().lower() or 'unknown'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    bundle = args.dist / "convergeai"
    if not (bundle / "_internal").is_dir():
        raise SystemExit(f"archive.py: no bundle in {bundle}; run pyinstaller build.spec first")
    if sys.platform.startswith("linux"):
        target = bundle / "linux"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "packaging" / "linux", target)
    stem = f"convergeai-{version()}-{platform_tag()}"
    if sys.platform == "win32":
        out = args.dist / f"{stem}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(bundle.rglob("*")):
                zf.write(path, Path(stem) / path.relative_to(bundle))
    else:
        out = args.dist / f"{stem}.tar.gz"
        with tarfile.open(out, "w:gz", compresslevel=6) as tf:
            tf.add(bundle, arcname=stem)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
