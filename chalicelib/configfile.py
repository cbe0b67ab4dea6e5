"""Load a YAML configuration file, replacing `${NAME}` / `${NAME:-default}` with environment
values (the local stack points sample sources and targets at its own 127.0.0.1 servers this way).
An unset variable with no default is an error that names the file and the variable."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from chalicelib.settings import config_value

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    pass


def expand(text: str, *, origin: str = "config") -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = config_value(name)
        value = default if value is None else value
        if value is None:
            raise ConfigError(f"{origin}: environment variable {name} is not set")
        return value

    return _VAR.sub(substitute, text)


def load_yaml(path: Path | str) -> Any:
    import yaml  # imported here: only the functions that read config pay for it

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        return yaml.safe_load(expand(text, origin=str(path))) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
