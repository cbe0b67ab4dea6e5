"""Monitoring targets: the config model, validation, and YAML loading (Gatus style).

    defaults:                 # optional, applied to every endpoint
      interval: 1m
      timeout: 10s
      failure-threshold: 3
      success-threshold: 2
      reminder-interval: 1h
      alerts: [console]
    grouping:                 # one grouped alert when more than `share` of a tick's checks fail
      share: 0.5
      min-targets: 4
    endpoints:
      - name: api
        group: core
        url: https://api.example.com/health
        method: GET
        headers: {Accept: application/json}
        conditions: ["[STATUS] == 200", "[BODY].status == up", "[RESPONSE_TIME] < 800"]
        degraded-response-time: 500       # passing but slower than this -> DEGRADED
        alerts: [slack, webhook]
        maintenance: [...]                # see maintenance.py

URL schemes: http, https, tcp://host:port, dns://hostname. Keys may be kebab- or snake_case.
Every problem raises `InvalidTarget(field, "target 'api': ...")` naming the field and the target.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from chalicelib.errors import AlreadyExists, InvalidInput
from chalicelib.uptime import conditions as cond
from chalicelib.uptime.http1 import valid_header
from chalicelib.uptime.maintenance import Window, WindowError, parse_window
from chalicelib.uptime.ssrf import AddressPolicy

if TYPE_CHECKING:
    from chalicelib.uptime.heartbeat import Rule

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CHANNELS = frozenset({"slack", "x", "webhook", "console"})
SCHEMES = frozenset({"http", "https", "tcp", "dns", "heartbeat"})
_ALLOWED_PLACEHOLDERS = {
    "http": {"STATUS", "RESPONSE_TIME", "BODY", "IP", "DOMAIN_EXPIRATION"},
    "https": {"STATUS", "RESPONSE_TIME", "BODY", "IP", "CERTIFICATE_EXPIRATION", "DOMAIN_EXPIRATION"},
    "tcp": {"CONNECTED", "RESPONSE_TIME", "IP", "DOMAIN_EXPIRATION"},
    "dns": {"DNS_RCODE", "BODY", "IP", "RESPONSE_TIME"},
    "heartbeat": set(),
}
_DEFAULT_CONDITIONS = {
    "http": ("[STATUS] == 200",),
    "https": ("[STATUS] == 200",),
    "tcp": ("[CONNECTED] == true",),
    "dns": ("[DNS_RCODE] == NOERROR",),
    "heartbeat": (),
}
_KNOWN_KEYS = {
    "name", "group", "url", "method", "headers", "body", "interval", "timeout", "conditions",
    "alerts", "failure_threshold", "success_threshold", "reminder_interval", "maintenance",
    "degraded_response_time", "max_body_bytes", "enabled", "dns", "heartbeat",
}
DNS_QUERY_TYPES = frozenset({"A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "PTR", "SRV", "CAA"})
DEFAULT_MAX_BODY = 256 * 1024
# Timeouts: the longest a check may take, and what the ping / ping_shard functions need on top to
# store the tick, apply states and roll up. Their lambda_timeout in .chalice/config.json must exceed
# the sum (tests/integration/uptime/test_ping_sharding.py checks every stage).
MAX_TIMEOUT_S = 50
STORE_MARGIN_S = 15


class InvalidTarget(InvalidInput):
    """A target configuration that cannot be checked: `param` is the field at fault (snake_case,
    None for the file or mapping as a whole); the message names target and problem."""


class TargetExists(AlreadyExists, InvalidTarget):
    """A target of this name exists already (in the YAML file or added at runtime)."""


def ascii_host(host: str) -> str:
    """The host as sent in DNS queries, SNI and Host: IDNA 2008 with UTS #46 mapping for
    internationalized names (`例え.jp` -> `xn--r8jz45g.jp`), unchanged for ASCII names and IP
    literals. Raises ValueError (idna.IDNAError) for a name IDNA cannot encode."""
    if not host or host.isascii():
        return host
    import idna

    return idna.encode(host, uts46=True).decode("ascii")


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    group: str = "default"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    interval_s: int = 60
    timeout_s: float = 10.0
    conditions: tuple[cond.Condition, ...] = ()
    alerts: tuple[str, ...] = ("console",)
    failure_threshold: int = 3
    success_threshold: int = 2
    reminder_interval_s: int = 3600
    maintenance: tuple[Window, ...] = ()
    degraded_ms: float | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    source: str = "config"  # "config" (YAML) | "api" (runtime)
    dns_query_name: str | None = None  # dns:// with a `dns:` block: the url's host is the name server
    dns_query_type: str = "A"
    heartbeat: Rule | None = None  # heartbeat monitors (no url: jobs ping us)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # derived from the above in __post_init__, not compared
    _parts: SplitResult = field(init=False, repr=False, compare=False, hash=False)
    _netloc: str = field(init=False, repr=False, compare=False, hash=False)
    _scheme: str = field(init=False, repr=False, compare=False, hash=False)
    _host: str = field(init=False, repr=False, compare=False, hash=False)
    _port: int = field(init=False, repr=False, compare=False, hash=False)
    _needs_body: bool = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # URL parts and the body need are derived once per Target (frozen: set through object)
        parts = urlsplit(self.url)
        host = ascii_host(parts.hostname or "")
        port_text = f":{parts.port}" if parts.port else ""
        derived: dict[str, Any] = {
            "_parts": parts,
            "_netloc": (f"[{host}]" if ":" in host else host) + port_text,  # the Host header, ASCII
            "_scheme": parts.scheme,
            "_host": host,
            "_port": parts.port or {"https": 443, "http": 80, "dns": 53}.get(parts.scheme, 0),
            "_needs_body": self.method != "HEAD" and any("BODY" in c.placeholders for c in self.conditions),
        }
        for key, value in derived.items():
            object.__setattr__(self, key, value)

    @property
    def netloc(self) -> str:
        return self._netloc

    @property
    def scheme(self) -> str:
        return self._scheme

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def needs_domain_expiration(self) -> bool:
        return any("DOMAIN_EXPIRATION" in c.placeholders for c in self.conditions)

    @property
    def needs_body(self) -> bool:
        """Some condition reads [BODY] (and the method returns one)."""
        return self._needs_body

    @property
    def interval_min(self) -> int:
        return max(1, self.interval_s // 60)

    def due(self, epoch_minute: int) -> bool:
        """Deterministic from the tick's minute (a duplicate tick picks the same targets);
        targets with longer intervals are spread by a stable per-name offset."""
        n = self.interval_min
        return n == 1 or epoch_minute % n == zlib.crc32(self.name.encode()) % n

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "url": self.url,
            "method": self.method,
            "interval_s": self.interval_s,
            "timeout_s": self.timeout_s,
            "conditions": [c.text for c in self.conditions],
            "alerts": list(self.alerts),
            "failure_threshold": self.failure_threshold,
            "success_threshold": self.success_threshold,
            "reminder_interval_s": self.reminder_interval_s,
            "maintenance": [w.describe() for w in self.maintenance],
            "degraded_response_time_ms": self.degraded_ms,
            "source": self.source,
            **({"heartbeat": self.heartbeat.describe()} if self.heartbeat is not None else {}),
        }


@dataclass(frozen=True)
class Grouping:
    share: float = 0.5
    min_targets: int = 4


@dataclass(frozen=True)
class TargetsConfig:
    targets: tuple[Target, ...]
    grouping: Grouping = Grouping()
    defaults: dict[str, Any] = field(default_factory=dict)


def _norm(raw: dict[str, Any]) -> dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in raw.items()}


def _seconds(value: Any, what: str, name: str, param: str | None = None) -> float:
    """`what` is the field as written in YAML (failure-threshold); `param` the field at fault
    when it is not `what` itself (a heartbeat's period is the heartbeat field's problem)."""
    param = param or what.replace("-", "_")
    if isinstance(value, bool):
        raise InvalidTarget(param, f"target {name!r}: {what} {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return float(value)
    ms = cond.duration_ms(str(value))
    if ms is None:
        raise InvalidTarget(param, f"target {name!r}: {what} {value!r} is not a duration like 30s, 5m, 1h")
    return ms / 1000.0


def _int(value: Any, what: str, name: str, low: int, high: int) -> int:
    param = what.replace("-", "_")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.fullmatch(r"[0-9]{1,9}", str(value)):
        raise InvalidTarget(param, f"target {name!r}: {what} {value!r} must be a whole number")
    number = int(value)
    if not low <= number <= high:
        raise InvalidTarget(param, f"target {name!r}: {what} {number} must be between {low} and {high}")
    return number


def parse_target(
    raw: Any,
    defaults: dict[str, Any] | None = None,
    *,
    source: str = "config",
    policy: AddressPolicy | None = None,
) -> Target:
    """Validate one endpoint mapping. `policy` (when given) refuses IP-literal/localhost URLs
    that the stage does not allow, at creation time rather than at the first check."""
    if not isinstance(raw, dict):
        raise InvalidTarget(None, f"target {raw!r}: must be a mapping")
    data = {**_norm(defaults or {}), **_norm(raw)}
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidTarget("name", f"target {name!r}: name must be 1-64 characters of letters, digits, '.', '_' or '-'")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise InvalidTarget(unknown[0], f"target {name!r}: unknown field(s) {', '.join(unknown)}")
    rule = None
    if data.get("heartbeat") is not None:
        from chalicelib.uptime.heartbeat import InvalidHeartbeat, parse_rule

        if data.get("url") or data.get("conditions"):
            raise InvalidTarget("heartbeat", f"target {name!r}: a heartbeat has no url or conditions (jobs ping /ping/<token>)")
        try:
            rule = parse_rule(data["heartbeat"], lambda value, what: _seconds(value, what, name, "heartbeat"))
        except InvalidHeartbeat as exc:
            raise InvalidTarget("heartbeat", f"target {name!r}: {exc}") from None
        data = {**data, "url": f"heartbeat://{name.lower()}", "failure_threshold": data.get("failure_threshold", 1),
                "success_threshold": data.get("success_threshold", 1)}
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        raise InvalidTarget("url", f"target {name!r}: url is required")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidTarget("url", f"target {name!r}: invalid url {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme == "heartbeat" and rule is None:
        raise InvalidTarget("url", f"target {name!r}: heartbeats are configured with a heartbeat block, not a url")
    if scheme not in SCHEMES:
        raise InvalidTarget("url", f"target {name!r}: url {url!r} must start with http://, https://, tcp:// or dns://")
    if not parts.hostname:
        raise InvalidTarget("url", f"target {name!r}: url {url!r} has no host")
    try:
        ascii_host(parts.hostname)
    except (ValueError, UnicodeError) as exc:
        raise InvalidTarget("url", f"target {name!r}: host {parts.hostname!r} is not a valid internationalized domain name "
                                   f"({exc})") from None
    if parts.username or parts.password:
        raise InvalidTarget("url", f"target {name!r}: url {url!r} must not carry credentials (use headers)")
    if scheme == "tcp" and not port:
        raise InvalidTarget("url", f"target {name!r}: tcp url {url!r} needs a port (tcp://host:port)")
    dns_query_name, dns_query_type = _dns_query(data.get("dns"), scheme, parts.hostname, name)
    if policy is not None and (scheme != "dns" or dns_query_name):  # a name server gets our packets too
        reason = policy.refusal_for_host(parts.hostname)
        if reason:
            raise InvalidTarget("url", f"target {name!r}: url {url!r} refused: {reason}")
    method = str(data.get("method") or "GET").upper()
    if method not in METHODS:
        raise InvalidTarget("method", f"target {name!r}: method {method!r} not one of {', '.join(sorted(METHODS))}")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) for k in headers):
        raise InvalidTarget("headers", f"target {name!r}: headers must be a mapping of name to value")
    for key, value in headers.items():
        problem = valid_header(key, str(value))
        if problem:
            raise InvalidTarget("headers", f"target {name!r}: {problem}")
    if any(ord(c) < 33 or 0x7f <= ord(c) < 0xa0 for c in url):
        raise InvalidTarget("url", f"target {name!r}: url {url!r} contains whitespace or control characters")
    body = data.get("body")
    if body is not None and not isinstance(body, str):
        raise InvalidTarget("body", f"target {name!r}: body must be a string")
    interval = _seconds(data.get("interval", 60), "interval", name)
    if interval < 60 or interval % 60 or interval > 86400:
        raise InvalidTarget("interval", f"target {name!r}: interval must be whole minutes between 1m and 24h")
    timeout = _seconds(data.get("timeout", 10), "timeout", name)
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise InvalidTarget("timeout", f"target {name!r}: timeout must be between 0 and {MAX_TIMEOUT_S}s (a check must finish "
                            f"within the ping function's timeout, less {STORE_MARGIN_S}s to store the tick)")
    raw_conditions = data.get("conditions") or list(_DEFAULT_CONDITIONS[scheme])
    if not isinstance(raw_conditions, list):
        raise InvalidTarget("conditions", f"target {name!r}: conditions must be a list")
    parsed = []
    for text in raw_conditions:
        try:
            condition = cond.parse(text)
        except cond.ConditionError as exc:
            raise InvalidTarget("conditions", f"target {name!r}: {exc}") from None
        wrong = condition.placeholders - _ALLOWED_PLACEHOLDERS[scheme]
        if wrong:
            raise InvalidTarget(
                "conditions",
                f"target {name!r}: condition {condition.text!r} uses [{', '.join(sorted(wrong))}], "
                f"which a {scheme}:// target does not have"
            )
        parsed.append(condition)
    alerts_raw = data.get("alerts", ["console"]) or []
    alerts = []
    for alert in alerts_raw if isinstance(alerts_raw, list) else [alerts_raw]:
        channel = alert.get("type") if isinstance(alert, dict) else alert
        if channel not in CHANNELS:
            raise InvalidTarget("alerts", f"target {name!r}: alert channel {channel!r} not one of {', '.join(sorted(CHANNELS))}")
        alerts.append(channel)
    windows = []
    for window in data.get("maintenance") or []:
        try:
            windows.append(parse_window(window))
        except WindowError as exc:
            raise InvalidTarget("maintenance", f"target {name!r}: {exc}") from None
    degraded = data.get("degraded_response_time")
    degraded_ms = None
    if degraded is not None:
        numeric = isinstance(degraded, (int, float)) and not isinstance(degraded, bool)
        degraded_ms = float(degraded) if numeric else cond.duration_ms(str(degraded))
        if not degraded_ms or degraded_ms <= 0:
            raise InvalidTarget("degraded_response_time", f"target {name!r}: degraded-response-time {degraded!r} must be ms or a duration")
    group = str(data.get("group") or "default")
    return Target(
        name=name,
        url=url,
        group=group,
        method=method,
        headers=tuple((str(k), str(v)) for k, v in headers.items()),
        body=body,
        interval_s=int(interval),
        timeout_s=timeout,
        conditions=tuple(parsed),
        alerts=tuple(dict.fromkeys(alerts)),
        failure_threshold=_int(data.get("failure_threshold", 3), "failure-threshold", name, 1, 20),
        success_threshold=_int(data.get("success_threshold", 2), "success-threshold", name, 1, 20),
        reminder_interval_s=int(_seconds(data.get("reminder_interval", 3600), "reminder-interval", name)),
        maintenance=tuple(windows),
        degraded_ms=degraded_ms,
        max_body_bytes=_int(data.get("max_body_bytes", DEFAULT_MAX_BODY), "max-body-bytes", name, 1, 8 * 1024 * 1024),
        source=source,
        dns_query_name=dns_query_name,
        dns_query_type=dns_query_type,
        heartbeat=rule,
        raw=without_secrets(raw, rule),
    )


def without_secrets(raw: dict[str, Any], rule: Any) -> dict[str, Any]:
    """The config as it may be stored or shown: a heartbeat's token replaced by its hash."""
    out = dict(raw)
    if rule is not None and isinstance(out.get("heartbeat"), dict):
        block = {k: v for k, v in out["heartbeat"].items() if k != "token"}
        block["token-sha256"] = rule.token_sha256
        block.pop("token_sha256", None)
        out["heartbeat"] = block
    return out


def _dns_query(block: Any, scheme: str, host: str, name: str) -> tuple[str | None, str]:
    """Gatus' `dns: {query-name, query-type}`: the url (dns://<server>[:port]) names the server,
    which must be an IP address (it is vetted by the address policy like any target)."""
    if block is None:
        return None, "A"
    if scheme != "dns":
        raise InvalidTarget("dns", f"target {name!r}: a dns block needs a dns:// url (the name server)")
    if not isinstance(block, dict):
        raise InvalidTarget("dns", f"target {name!r}: dns must be a mapping with query-name and query-type")
    block = _norm(block)
    unknown = sorted(set(block) - {"query_name", "query_type"})
    if unknown:
        raise InvalidTarget("dns", f"target {name!r}: unknown dns field(s) {', '.join(unknown)}")
    query_name = block.get("query_name")
    if not isinstance(query_name, str) or not query_name.strip():
        raise InvalidTarget("dns", f"target {name!r}: dns needs a query-name")
    try:
        query_name = ascii_host(query_name.strip().rstrip("."))
    except (ValueError, UnicodeError) as exc:
        raise InvalidTarget("dns", f"target {name!r}: dns query-name {query_name!r} is not a valid domain name ({exc})") from None
    query_type = str(block.get("query_type") or "A").upper()
    if query_type not in DNS_QUERY_TYPES:
        raise InvalidTarget("dns", f"target {name!r}: dns query-type {query_type!r} not one of {', '.join(sorted(DNS_QUERY_TYPES))}")
    from chalicelib.uptime.ssrf import parse_literal

    if parse_literal(host) is None:
        raise InvalidTarget("url", f"target {name!r}: with a dns block the url names the DNS server: use its IP address (dns://9.9.9.9)")
    return query_name, query_type


def parse_config(data: Any, *, policy: AddressPolicy | None = None, origin: str = "targets") -> TargetsConfig:
    if not isinstance(data, dict):
        raise InvalidTarget(None, f"{origin}: top level must be a mapping with 'endpoints'")
    defaults = data.get("defaults") or {}
    endpoints = data.get("endpoints") or []
    if not isinstance(endpoints, list):
        raise InvalidTarget("endpoints", f"{origin}: 'endpoints' must be a list")
    targets, seen = [], set()
    for raw in endpoints:
        target = parse_target(raw, defaults, policy=policy)
        if target.name in seen:
            raise InvalidTarget("name", f"target {target.name!r}: defined twice in {origin}")
        seen.add(target.name)
        if (raw or {}).get("enabled", True) is not False:
            targets.append(target)
    grouping_raw = _norm(data.get("grouping") or {})
    try:
        grouping = Grouping(
            share=float(grouping_raw.get("share", 0.5)), min_targets=int(grouping_raw.get("min_targets", 4))
        )
    except (TypeError, ValueError):
        raise InvalidTarget("grouping", f"{origin}: grouping needs share (0..1) and min-targets (integer)") from None
    if not 0 < grouping.share <= 1:
        raise InvalidTarget("grouping", f"{origin}: grouping share must be in (0, 1]")
    return TargetsConfig(targets=tuple(targets), grouping=grouping, defaults=dict(defaults))


def load_file(path: Path | str, *, policy: AddressPolicy | None = None) -> TargetsConfig:
    """Read the YAML file (with ${ENV} substitution); a missing file is an empty config."""
    from chalicelib.configfile import ConfigError, load_yaml

    path = Path(path)
    if not path.exists():
        return TargetsConfig(targets=())
    try:
        data = load_yaml(path)
    except ConfigError as exc:
        raise InvalidTarget(None, str(exc)) from None
    return parse_config(data, policy=policy, origin=str(path))
