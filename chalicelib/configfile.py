"""The one loader of YAML configuration files (sources, targets, subscriptions and alert routes,
the ops file, the crawler CLI's --config; the local stack's devstack/config/ copies of them).

`${NAME}` / `${NAME:-default}` are replaced with environment values before parsing (the local
stack points sample sources and targets at its own 127.0.0.1 servers this way); `${secret:NAME}`
is left for the crawler to resolve at fetch time. Every error is a ConfigError naming the file
and, where there is one, the line: an unreadable file, bad YAML, an unset variable with no
default, or a top level that is not a mapping."""
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
            line = text.count("\n", 0, match.start()) + 1
            raise ConfigError(f"{origin}:{line}: environment variable {name} is not set")
        return value

    return _VAR.sub(substitute, text)


def load_yaml(path: Path | str) -> Any:
    """The file's document (an empty file is `{}`), after `${NAME}` expansion."""
    import yaml  # imported here: only the functions that read config pay for it

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        return yaml.safe_load(expand(text, origin=str(path))) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}{_where(exc)}: invalid YAML: {_problem(exc)}") from None


def load_mapping(path: Path | str) -> dict[str, Any]:
    """`load_yaml` for the files whose top level is a mapping (all of ours but the sources list)."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, not {type(data).__name__}")
    return data


def _where(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def _problem(exc: Exception) -> str:
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    return ", ".join(p for p in parts if p) or str(exc)
