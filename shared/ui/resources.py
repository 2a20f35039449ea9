"""Find files under ``resources/`` from a source checkout, an installed package or a frozen
bundle, through one helper (after qutebrowser's ``utils/resources.py``)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_root() -> Path:
    """The ``resources`` folder."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    here = Path(__file__).resolve()
    candidates.append(here.parents[2] / "resources")  # source checkout / editable install
    candidates.append(here.parents[1] / "resources")  # wheel: shared/resources
    for candidate in candidates:
        if (candidate / "themes").is_dir():
            return candidate
    raise FileNotFoundError("The ConvergeAI resources folder is missing: reinstall the app.")


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``."""
    return resources_root().joinpath(*parts)


def read_text(*parts: str) -> str:
    return resource_path(*parts).read_text(encoding="utf-8")
