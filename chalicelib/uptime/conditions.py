"""Gatus-style conditions: a pure parser and evaluator.

    [STATUS] == 200            [STATUS] < 400             [RESPONSE_TIME] < 500
    [BODY] == pat(*ok*)        [BODY] == re(^ok$)         [BODY].status == "up"
    len([BODY].items) > 0      [CERTIFICATE_EXPIRATION] > 168h
    [CONNECTED] == true        [DNS_RCODE] == NOERROR     [IP] == 127.0.0.1
    [STATUS] == any(200, 204)

Durations (`500ms`, `30s`, `5m`, `168h`, `2d`, `1h30m`) become milliseconds, the unit of
[RESPONSE_TIME] and [CERTIFICATE_EXPIRATION]. `parse()` raises `ConditionError` for anything it
cannot evaluate, so a bad condition is rejected when the configuration is loaded.
"""
from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDERS = frozenset({"STATUS", "RESPONSE_TIME", "BODY", "CERTIFICATE_EXPIRATION", "DOMAIN_EXPIRATION",
                          "CONNECTED", "IP", "DNS_RCODE"})
NUMERIC = frozenset({"STATUS", "RESPONSE_TIME", "CERTIFICATE_EXPIRATION", "DOMAIN_EXPIRATION"})
DURATIONS = frozenset({"RESPONSE_TIME", "CERTIFICATE_EXPIRATION", "DOMAIN_EXPIRATION"})
RCODES = frozenset({"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"})
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_ORDERING = {"<", ">", "<=", ">="}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PLACEHOLDER = re.compile(r"^\[([A-Za-z_]+)\]((?:\.[A-Za-z0-9_\-]+|\[\d+\])*)$")
_BASE_INT = re.compile(r"^[+-]?0[xXoObB][0-9A-Fa-f_]+$")
_OPERATOR_CHARS = "=<>!"
_PATH_PART = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]")
MISSING = object()


class ConditionError(ValueError):
    pass


def duration_ms(text: str) -> float | None:
    text = text.strip()
    if not _DURATION.match(text):
        return None
    return float(sum(float(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(text)))


@dataclass(frozen=True)
class Placeholder:
    name: str
    path: tuple[str | int, ...] = ()
    length: bool = False
    has: bool = False

    def resolve(self, ctx: dict[str, Any]) -> Any:
        value = ctx.get(self.name, MISSING)
        if self.path:
            value = _json_path(ctx, self.path)
        if self.has:  # Gatus: has([BODY].path) is true when the path exists (even if null)
            return value is not MISSING and value is not None if not self.path else value is not MISSING
        if self.length:
            return _length(value, ctx, whole_body=not self.path)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return value


@dataclass(frozen=True)
class Literal:
    value: Any  # float | bool | str

    def resolve(self, ctx: dict[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class Pattern:
    kind: str  # "pat" | "re" | "any"
    raw: str
    compiled: Any = field(default=None, compare=False)
    options: tuple[str, ...] = ()

    def matches(self, value: Any, found: bool | None = None) -> bool:
        """`found`: the regex verdict computed elsewhere (with a time cap, see regexcap.py)."""
        text = _text(value)
        if self.kind == "pat":
            return fnmatch.fnmatchcase(text, self.raw)
        if self.kind == "re":
            return found if found is not None else self.compiled.search(text) is not None
        return any(_equal(value, _literal(option)) for option in self.options)


@dataclass(frozen=True)
class Condition:
    text: str
    left: Placeholder | Literal
    op: str
    right: Placeholder | Literal | Pattern

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(side.name for side in (self.left, self.right) if isinstance(side, Placeholder))

    @property
    def error_class(self) -> str:
        """'status' when this condition is about the HTTP status only, else 'condition'."""
        return "status" if self.placeholders == {"STATUS"} else "condition"

    @property
    def regex(self) -> Pattern | None:
        return self.right if isinstance(self.right, Pattern) and self.right.kind == "re" else None

    def regex_subject(self, ctx: dict[str, Any]) -> str | None:
        """The text a regex condition searches, or None when there is none (missing value)."""
        left = self.left.resolve(ctx)
        return None if left is MISSING else _text(left)

    def evaluate(self, ctx: dict[str, Any], found: bool | None = None) -> tuple[bool, str]:
        """(passed, rendered) where rendered shows the resolved values, e.g. `[STATUS] (500) == 200`.
        `found`: a regex condition's verdict computed with a time cap (see `evaluate_all_async`)."""
        left = self.left.resolve(ctx)
        if isinstance(self.right, Pattern):
            passed = left is not MISSING and self.right.matches(left, found)
            if self.op == "!=":
                passed = left is not MISSING and not passed
            right_shown = None
        else:
            right = self.right.resolve(ctx)
            passed = _compare(left, self.op, right)
            right_shown = right if isinstance(self.right, Placeholder) else None
        return passed, self._render(left, right_shown)

    def _render(self, left: Any, right: Any) -> str:
        shown = "missing" if left is MISSING else _text(left)[:80]
        rendered = f"{self.text} (got {shown})"
        if right is not None:
            rendered += f" vs {'missing' if right is MISSING else _text(right)[:80]}"
        return rendered


def parse(text: str) -> Condition:
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("empty condition")
    text = text.strip()
    position, op = _find_operator(text)
    if op is None:
        raise ConditionError(f"condition {text!r} has no operator (one of {', '.join(OPERATORS)})")
    left_text, right_text = text[:position].strip(), text[position + len(op) :].strip()
    if not left_text or not right_text:
        raise ConditionError(f"condition {text!r} needs a value on both sides of {op}")
    if right_text[0] in _OPERATOR_CHARS or left_text[-1] in _OPERATOR_CHARS:
        wrong = (left_text[-1] if left_text[-1] in _OPERATOR_CHARS else "") + op + (
            right_text[0] if right_text[0] in _OPERATOR_CHARS else "")
        raise ConditionError(f"condition {text!r}: unknown operator {wrong!r} (use one of {', '.join(OPERATORS)})")
    left = _operand(left_text, text)
    right = _operand(right_text, text)
    if isinstance(left, Pattern):
        raise ConditionError(f"condition {text!r}: a pattern belongs on the right-hand side")
    if not isinstance(left, Placeholder) and not isinstance(right, Placeholder):
        raise ConditionError(f"condition {text!r} compares no placeholder (e.g. [STATUS])")
    if isinstance(right, Pattern) and op not in {"==", "!="}:
        raise ConditionError(f"condition {text!r}: {right.kind}() only works with == or !=")
    if op in _ORDERING:
        for side in (left, right):
            if isinstance(side, Literal) and not isinstance(side.value, float):
                raise ConditionError(f"condition {text!r}: {op} needs a number or duration, not {side.value!r}")
            if isinstance(side, Placeholder) and side.has:
                raise ConditionError(f"condition {text!r}: has() is true or false and cannot be ordered with {op}")
            if isinstance(side, Placeholder) and not side.length and side.name in {"CONNECTED", "IP", "DNS_RCODE"}:
                raise ConditionError(f"condition {text!r}: [{side.name}] cannot be ordered with {op}")
    for placeholder, other in ((left, right), (right, left)):
        if isinstance(placeholder, Placeholder):
            _check_operand_type(placeholder, other, text)
    if isinstance(left, Placeholder) and _kind(left) == "rcode" and isinstance(right, Literal) and isinstance(right.value, str):
        right = Literal(right.value.upper())  # response codes are names: NXDOMAIN == nxdomain
    return Condition(text=text, left=left, op=op, right=right)


def _kind(placeholder: Placeholder) -> str:
    """What values a placeholder holds, for load-time type checks."""
    if placeholder.has:
        return "bool"
    if placeholder.length:
        return "number"
    if placeholder.path:
        return "any"
    return {"STATUS": "status", "RESPONSE_TIME": "duration", "CERTIFICATE_EXPIRATION": "duration",
            "DOMAIN_EXPIRATION": "duration", "CONNECTED": "bool", "IP": "ip", "DNS_RCODE": "rcode"}.get(placeholder.name, "any")


def _check_operand_type(placeholder: Placeholder, other: Any, whole: str) -> None:
    kind = _kind(placeholder)
    if kind == "any" or isinstance(other, Placeholder):
        return
    if isinstance(other, Pattern):
        if other.kind != "any":
            return  # pat()/re() match the value's text
        values = [_literal(o) for o in other.options]
    else:
        values = [other.value]
    shown = _describe(placeholder)
    for value in values:
        problem = _type_problem(kind, value)
        if problem:
            raise ConditionError(f"condition {whole!r}: {shown} {problem}, {_show(value)} is not")


def _type_problem(kind: str, value: Any) -> str | None:
    import ipaddress

    if kind == "status":
        if not isinstance(value, float) or not value.is_integer() or not 100 <= value <= 599:
            return "is an HTTP status code (100-599)"
    elif kind in ("duration", "number"):
        if not isinstance(value, float):
            return "is a number" + (" or a duration like 500ms, 72h" if kind == "duration" else "")
    elif kind == "bool":
        if not isinstance(value, bool):
            return "is true or false"
    elif kind == "rcode":
        if not isinstance(value, str) or value.upper() not in RCODES:
            return f"is a DNS response code ({', '.join(sorted(RCODES))})"
    elif kind == "ip":
        try:
            ipaddress.ip_address(str(value))
        except ValueError:
            return "is an IP address"
    return None


def _describe(placeholder: Placeholder) -> str:
    inner = f"[{placeholder.name}]" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in placeholder.path)
    return f"len({inner})" if placeholder.length else f"has({inner})" if placeholder.has else inner


def _show(value: Any) -> str:
    return repr(_text(value)) if not isinstance(value, str) else repr(value)


def _find_operator(text: str) -> tuple[int, str | None]:
    depth, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0:
            for op in OPERATORS:
                if text.startswith(op, i):
                    return i, op
        i += 1
    return -1, None


def _operand(raw: str, whole: str) -> Placeholder | Literal | Pattern:
    lowered = raw.lower()
    for function in ("len", "has"):
        if lowered.startswith(function + "(") and raw.endswith(")"):
            inner = _operand(raw[len(function) + 1 : -1].strip(), whole)
            if not isinstance(inner, Placeholder) or inner.name != "BODY":
                raise ConditionError(f"condition {whole!r}: {function}() takes [BODY] or a [BODY].path")
            return Placeholder(inner.name, inner.path, length=function == "len", has=function == "has")
    for kind in ("pat", "re", "regex", "any"):
        if lowered.startswith(kind + "(") and raw.endswith(")"):
            text = raw[len(kind) + 1 : -1]
            if kind == "any":
                options = tuple(_unquote(o.strip()) for o in text.split(","))
                return Pattern("any", text, options=options)
            if kind in {"re", "regex"}:
                try:
                    return Pattern("re", text, re.compile(text))
                except re.error as exc:
                    raise ConditionError(f"condition {whole!r}: invalid regex {text!r}: {exc}") from None
            return Pattern("pat", text)
    if raw.startswith("["):
        match = _PLACEHOLDER.match(raw)
        if not match:
            raise ConditionError(f"condition {whole!r}: cannot read placeholder {raw!r}")
        name, path_text = match.group(1).upper(), match.group(2)  # placeholders are case-insensitive
        if name not in PLACEHOLDERS:
            raise ConditionError(f"condition {whole!r}: unknown placeholder [{name}] (known: {', '.join(sorted(PLACEHOLDERS))})")
        if path_text and name != "BODY":
            raise ConditionError(f"condition {whole!r}: only [BODY] takes a JSON path")
        path = tuple(int(i) if i else key for key, i in _PATH_PART.findall(path_text))
        return Placeholder(name, path)
    return Literal(_literal(raw))


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


def _literal(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if raw.lower() in {"true", "false"}:
        return raw.lower() == "true"
    if _BASE_INT.match(raw):  # 0x1F, 0o17, 0b101 (Gatus reads integers with Go's base prefixes)
        try:
            return float(int(raw, 0))
        except ValueError:
            pass
    try:
        return float(raw)
    except ValueError:
        pass
    ms = duration_ms(raw)
    return ms if ms is not None else raw


def _json_path(ctx: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    if "_json" not in ctx:
        body = ctx.get("BODY")
        try:
            ctx["_json"] = json.loads(body) if body not in (None, b"", "") else MISSING
        except (ValueError, UnicodeDecodeError, RecursionError):  # deeply nested: not usable JSON
            ctx["_json"] = MISSING
    value = ctx["_json"]
    for part in path:
        in_list = isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value)
        if in_list or (isinstance(part, str) and isinstance(value, dict) and part in value):
            value = value[part]
        else:
            return MISSING
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if _BASE_INT.match(value.strip()):
            try:
                return float(int(value.strip(), 0))
            except ValueError:
                return None
        try:
            return float(value)
        except ValueError:
            return duration_ms(value)
    return None


def _length(value: Any, ctx: dict[str, Any], whole_body: bool) -> Any:
    """Gatus' len(): elements of a JSON array, keys of a JSON object, characters of a string.
    `len([BODY])` reads the body as JSON first (so `[]` has length 0), else as text."""
    if whole_body and value is not MISSING and value is not None:
        parsed = _json_path(ctx, ())
        if isinstance(parsed, (list, dict)):
            return len(parsed)
    if value is MISSING or value is None:
        return MISSING
    if isinstance(value, bytes):
        return len(value.decode("utf-8", "replace"))
    if isinstance(value, (str, list, dict)):
        return len(value)
    return len(_text(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _equal(left: Any, right: Any) -> bool:
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln == rn
    return _text(left) == _text(right)


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is MISSING or right is MISSING or left is None or right is None:
        return False
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    ln, rn = _number(left), _number(right)
    if ln is None or rn is None:
        return False
    return {"<": ln < rn, ">": ln > rn, "<=": ln <= rn, ">=": ln >= rn}[op]


def evaluate_all(conditions: tuple[Condition, ...], ctx: dict[str, Any]) -> tuple[Condition, str] | None:
    """The first failing condition and its rendering, or None when all pass."""
    for condition in conditions:
        passed, rendered = condition.evaluate(ctx)
        if not passed:
            return condition, rendered
    return None


async def evaluate_all_async(conditions: tuple[Condition, ...], ctx: dict[str, Any],
                             search: Callable[[Any, str], Awaitable[bool]]) -> tuple[Condition, str] | None:
    """`evaluate_all`, with every regex search done by `search(compiled, text)` (the checker's
    time-capped search, see regexcap.py) so a backtracking pattern cannot stall the tick."""
    for condition in conditions:
        found = None
        pattern = condition.regex
        if pattern is not None:
            subject = condition.regex_subject(ctx)
            if subject is not None:
                found = await search(pattern.compiled, subject)
        passed, rendered = condition.evaluate(ctx, found)
        if not passed:
            return condition, rendered
    return None
