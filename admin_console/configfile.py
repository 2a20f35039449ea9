"""Write a few settings into the TOML config file, keeping every other key in it.

Python reads TOML (``tomllib``) but does not write it; the config file only ever holds tables of
strings, numbers and booleans (``shared.settings`` refuses anything else), so it is serialised
here by hand with proper escaping. Comments in the file are not kept (the file is rewritten).
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.errors import ConfigError

_BARE_KEY_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_key(key: str) -> str:
    return key if key and set(key) <= _BARE_KEY_CHARS else toml_string(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ConfigError("A setting cannot be NaN or infinite.")
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    raise ConfigError(f"Cannot write a {type(value).__name__} to the config file.")


def dumps(data: Mapping[str, Any]) -> str:
    """TOML for top-level scalars plus one level of tables (what the config file holds)."""
    lines: list[str] = []
    for key, value in data.items():
        if not isinstance(value, Mapping):
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, Mapping):
            if lines:
                lines.append("")
            lines.append(f"[{toml_key(key)}]")
            for sub, subvalue in value.items():
                if isinstance(subvalue, Mapping):
                    raise ConfigError("The config file has only one level of tables.")
                lines.append(f"{toml_key(sub)} = {toml_value(subvalue)}")
    return "\n".join(lines) + "\n"


def update_section(path: Path, section: str, values: Mapping[str, Any]) -> None:
    """Set ``[section]`` keys in the file (a value of None removes the key); keeps the rest.
    Written to a temporary file and renamed, so a crash never leaves half a file."""
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"Cannot read the config file {path}: {exc}") from exc
    table = dict(data.get(section, {}))
    for key, value in values.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    if table:
        data[section] = table
    else:
        data.pop(section, None)
    text = dumps(data)
    tomllib.loads(text)  # never write what cannot be read back
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"Cannot write the config file {path}: {exc.strerror or exc}") from exc
