"""Subscriptions: who gets told about what. Pure model and matching rules, plus the store.

A subscription routes events to one destination (see `model`). Kinds and what they match:

    series     release.new whose series key equals the subscription's key
    keyword    release.new whose normalized title/series contains the normalized keyword
    publisher  release.new whose publisher key equals the key
    source     release.new first seen by that source (exact source name)
    target     target.* events of that uptime target; key "*" = every target
    ops        operator alerts: source.degraded / source.recovered, targets.grouped_down,
               notify.failed (a delivery that failed permanently)

Normalization rules (tested in tests/unit/notify/test_subscription_rules.py):

* series: one normalization, the crawlers' `extract_volume` + `series_key` (crawlers/normalize.py):
  NFKC (full-width -> ASCII, half-width kana -> kana), hiragana -> katakana, casefold, a trailing
  volume/issue marker (`108巻`, `第108巻`, `(108)`, `Vol. 3`, `#27`, a bare trailing number), a
  start year (`Nailbiter (2014) #1`, `DEJAH THORIS 2019`), a leading `The`/`A`/`An` and edition
  markers dropped, `&` read as `and`, then spaces and punctuation dropped; finally the alias lists
  (crawlers/series_aliases.json, plus $NEWBOOKS_SERIES_ALIASES) map each alias to its series.
  `ONE PIECE`, `One Piece 108`, `ＯＮＥ　ＰＩＥＣＥ`, `ワンピース 108巻` (alias) -> `onepiece`;
  `The Walking Dead`, `WALKING DEAD #98` -> `walkingdead`. Scripts meet only through an alias:
  `ハイキュー!!` does not match `HAIKYU!!` until an alias lists it. `fallback_series_key` is used
  only when the crawlers package is absent (no aliases there).
* publisher: NFKC, casefold, `株式会社` and punctuation/spaces removed.
* keyword: NFKC, casefold, spaces removed; substring of the release's normalized title+series.

Options per subscription: `digest` = off | daily | weekly (release events are collected and
sent as one message per period), `quiet_hours` = "HH:MM-HH:MM" in `tz` (release events
arriving then are held and sent when quiet hours end; uptime and operator alerts are never
held), `tz` = IANA name or "+09:00" style offset (default UTC).

Storage (STATE table, see chalicelib.resources):
    pk=SUB#<destination>  sk=<kind>#<key>   gsi1pk=MATCH#<kind>#<key>  gsi1sk=<destination>
keyword subscriptions share one bucket: gsi1pk=MATCH#keyword, so a release costs at most
four Queries on `by_match` (series, publisher, source, keyword bucket), each paged.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import Any

from chalicelib import aws
from chalicelib.errors import InvalidInput
from chalicelib.notify.model import split_destination

KINDS = ("series", "keyword", "publisher", "source", "target", "ops")
DIGEST_MODES = ("off", "daily", "weekly")

SeriesKeyFn = Callable[[str], str]

_VOLUME_TAIL = re.compile(
    r"""[\s:：,、-]*              # separators before the marker
        [\(\[【]?\s*
        (?:第?\s*\d+(?:\.\d+)?\s*(?:巻|話|集|号)?   # 108, 第108巻, 12話
          |vol(?:ume)?\.?\s*\d+(?:\.\d+)?          # Vol. 3, volume 3
          |\#\s*\d+(?:\.\d+)?)                     # #27
        \s*[\)\]】]?\s*$""",
    re.VERBOSE,
)
_YEAR = re.compile(r"\((?:19|20)\d{2}\)")  # "Nailbiter (2014) #1": the series' start year
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold().strip()


def fallback_series_key(text: str) -> str:
    """Only when the crawlers package is absent: the same rules minus articles, kana folding and aliases."""
    s = _YEAR.sub(" ", _nfkc(text))
    stripped = _VOLUME_TAIL.sub("", s)
    if _NON_WORD.sub("", stripped):  # never strip a title down to nothing ("1984", "100")
        s = stripped
    return _NON_WORD.sub("", s)


def resolve_series_key() -> SeriesKeyFn:
    """The crawlers' pipeline when present (`extract_volume` then `series_key`: what a crawled
    title goes through, aliases included), so a follow and a release meet on one key."""
    try:
        from crawlers.normalize import series_key
        from crawlers.volumes import extract_volume
    except ImportError:
        return fallback_series_key

    def crawler_series_key(text: str) -> str:
        series, _volume = extract_volume(text)
        return series_key(series or text)

    return crawler_series_key


def default_series_key(text: str) -> str:
    """One normalization for follows and releases: the crawlers' (see resolve_series_key)."""
    return resolve_series_key()(text)


def publisher_key(text: str) -> str:
    return _NON_WORD.sub("", _nfkc(text).replace("株式会社", ""))


def keyword_key(text: str) -> str:
    return re.sub(r"\s+", "", _nfkc(text))


def normalize_key(kind: str, text: str, series_key: SeriesKeyFn = default_series_key) -> str:
    if kind == "series":
        return series_key(text)
    if kind == "publisher":
        return publisher_key(text)
    if kind == "keyword":
        return keyword_key(text)
    if kind in ("source", "target"):
        return (text or "").strip()
    if kind == "ops":
        return "*"
    raise InvalidSubscription("kind", f"unknown subscription kind {kind!r}")


class InvalidSubscription(InvalidInput):
    """A follow that cannot be stored; `param` is the field at fault (kind, match, digest,
    quiet_hours, tz)."""


@dataclass(frozen=True)
class Subscription:
    destination: str
    kind: str
    key: str  # normalized
    label: str = ""  # what the user typed
    digest: str = "off"
    quiet_hours: str | None = None
    tz: str = "UTC"
    created_at: str = ""

    def __post_init__(self) -> None:
        split_destination(self.destination)
        if self.kind not in KINDS:
            raise InvalidSubscription("kind", f"unknown kind {self.kind!r}")
        if not self.key:
            raise InvalidSubscription("match", "empty subscription key")
        if self.digest not in DIGEST_MODES:
            raise InvalidSubscription("digest", f"digest must be one of {DIGEST_MODES}")
        if self.quiet_hours is not None:
            parse_quiet_hours(self.quiet_hours)
        zone(self.tz)

    @classmethod
    def create(
        cls, destination: str, kind: str, text: str, series_key: SeriesKeyFn = default_series_key, **options: Any
    ) -> Subscription:
        return cls(destination=destination, kind=kind, key=normalize_key(kind, text, series_key), label=text, **options)

    @property
    def match_pk(self) -> str:
        return "MATCH#keyword" if self.kind == "keyword" else f"MATCH#{self.kind}#{self.key}"

    @property
    def sk(self) -> str:
        return f"{self.kind}#{self.key}"

    def to_item(self) -> dict[str, Any]:
        item = {k: v for k, v in asdict(self).items() if v is not None}
        item.update(pk=f"SUB#{self.destination}", sk=self.sk, gsi1pk=self.match_pk, gsi1sk=self.destination)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Subscription:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: str(v) for k, v in item.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- options: quiet hours, time zones -------------------------------------------------------------


def parse_quiet_hours(spec: str) -> tuple[time, time]:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", spec or "")
    if not m:
        raise InvalidSubscription("quiet_hours", f"quiet_hours must look like 22:00-07:00, got {spec!r}")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise InvalidSubscription("quiet_hours", f"bad quiet_hours {spec!r}")
    return time(h1, m1), time(h2, m2)


def zone(name: str) -> tzinfo:
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name or "")
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    if name in ("", "UTC", "Z"):
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception as exc:
        raise InvalidSubscription("tz", f"unknown time zone {name!r}") from exc


def quiet_until(sub: Subscription, now: datetime) -> datetime | None:
    """When `now` falls in the subscription's quiet hours, the UTC end of them; else None."""
    if not sub.quiet_hours:
        return None
    start, end = parse_quiet_hours(sub.quiet_hours)
    local = now.astimezone(zone(sub.tz))
    t = local.time().replace(tzinfo=None)
    if start == end:
        return None
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + timedelta(days=1)
    end_local = datetime.combine(end_day, end, tzinfo=local.tzinfo)
    return end_local.astimezone(timezone.utc)


# --- matching (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseKeys:
    """What a release can be matched on; one by_match Query per non-empty key + keyword bucket."""

    series: str
    publisher: str
    source: str
    text: str  # normalized title + series for keyword matching
    legacy_series: str = ""  # the pre-issue-12 key when it differs: follows stored under it still match

    def match_pks(self) -> list[str]:
        pks = []
        if self.series:
            pks.append(f"MATCH#series#{self.series}")
        if self.legacy_series and self.legacy_series != self.series:
            pks.append(f"MATCH#series#{self.legacy_series}")
        if self.publisher:
            pks.append(f"MATCH#publisher#{self.publisher}")
        if self.source:
            pks.append(f"MATCH#source#{self.source}")
        pks.append("MATCH#keyword")
        return pks


def release_keys(release: dict[str, Any], series_key: SeriesKeyFn = default_series_key) -> ReleaseKeys:
    series_text = release.get("series") or release.get("title") or ""
    key = release.get("series_key") or (series_key(series_text) if series_text else "")
    text = keyword_key(" ".join(str(release.get(k) or "") for k in ("title", "series")))
    return ReleaseKeys(
        series=str(key),
        publisher=publisher_key(str(release.get("publisher") or "")),
        source=str(release.get("source") or ""),
        text=text,
        legacy_series=_legacy_key(series_text) if series_text else "",
    )


def _legacy_key(text: str) -> str:
    try:
        from crawlers.normalize import legacy_series_key
        from crawlers.volumes import extract_volume
    except ImportError:
        return ""
    series, _volume = extract_volume(text)
    return legacy_series_key(series or text)


def announced(release: dict[str, Any]) -> bool:
    """Whether a release is told to followers at all: merchandise (toys, apparel, games, supplies)
    is not. Items without a stored category are classified from their title."""
    try:
        from crawlers.categories import LISTED_BY_DEFAULT, classify
    except ImportError:
        return True
    return (release.get("category") or classify(release.get("title"))) in LISTED_BY_DEFAULT


def matches_release(sub: Subscription, keys: ReleaseKeys) -> bool:
    if sub.kind == "series":
        return bool(keys.series) and sub.key in (keys.series, keys.legacy_series)
    if sub.kind == "publisher":
        return bool(keys.publisher) and sub.key == keys.publisher
    if sub.kind == "source":
        return sub.key == keys.source
    if sub.kind == "keyword":
        return bool(sub.key) and sub.key in keys.text
    return False


def event_match_pks(event_type: str, subject: str, data: dict[str, Any]) -> list[str]:
    """by_match partitions for non-release events."""
    from chalicelib import events as ev

    if event_type in (ev.TARGET_DOWN, ev.TARGET_RECOVERED, ev.TARGET_REMINDER):
        target = data.get("target") or subject
        return [f"MATCH#target#{target}", "MATCH#target#*"]
    if event_type in (ev.TARGETS_GROUPED_DOWN, ev.TARGETS_GROUPED_REMINDER, ev.TARGETS_GROUPED_RECOVERED):
        return ["MATCH#target#*", "MATCH#ops#*"]
    if event_type in (ev.SOURCE_DEGRADED, ev.SOURCE_RECOVERED, ev.SOURCE_DEAD, "notify.failed", "ops.alarm"):
        return ["MATCH#ops#*"]
    return []


def select(subs: Iterable[Subscription]) -> dict[str, Subscription]:
    """One subscription per destination (one message per (event, destination)); an instant
    subscription wins over a digest one, so following a series instantly is never delayed by a
    weekly keyword digest of the same destination."""
    chosen: dict[str, Subscription] = {}
    for sub in subs:
        have = chosen.get(sub.destination)
        if have is None or (have.digest != "off" and sub.digest == "off"):
            chosen[sub.destination] = sub
    return chosen


# --- store ----------------------------------------------------------------------------------


class SubscriptionStore:
    """Subscriptions in the STATE table (see module docstring)."""

    def __init__(self, table: Any, index: str = "by_match") -> None:
        self.table = table
        self.index = index

    def put(self, sub: Subscription) -> None:
        self.table.put_item(Item=sub.to_item())

    def delete(self, destination: str, kind: str, key: str) -> None:
        self.table.delete_item(Key={"pk": f"SUB#{destination}", "sk": f"{kind}#{key}"})

    def for_destination(self, destination: str) -> list[Subscription]:
        from boto3.dynamodb.conditions import Key

        items = aws.all_items(self.table.query, KeyConditionExpression=Key("pk").eq(f"SUB#{destination}"))
        return [Subscription.from_item(i) for i in items]

    def by_match(self, match_pk: str) -> list[Subscription]:
        from boto3.dynamodb.conditions import Key

        items = aws.all_items(self.table.query, IndexName=self.index, KeyConditionExpression=Key("gsi1pk").eq(match_pk))
        return [Subscription.from_item(i) for i in items]



@dataclass
class StaticSubscriptions:
    """Subscriptions from a YAML file (configured routes: uptime targets and operator alerts,
    and the local stack's sample follows), matched in memory beside the stored ones."""

    subs: list[Subscription] = field(default_factory=list)

    def by_match(self, match_pk: str) -> list[Subscription]:
        return [s for s in self.subs if s.match_pk == match_pk]


def load_yaml(path: Any, series_key: SeriesKeyFn = default_series_key) -> list[Subscription]:
    """Read `subscriptions: [{destination, kind, match, digest?, quiet_hours?, tz?}, ...]`."""
    from chalicelib.configfile import load_mapping

    doc = load_mapping(path)
    out = []
    for entry in doc.get("subscriptions") or []:
        options = {k: entry[k] for k in ("digest", "quiet_hours", "tz") if k in entry}
        out.append(Subscription.create(entry["destination"], entry["kind"], str(entry.get("match", "*")), series_key, **options))
    return out


class SubscriptionService:
    """What the API and the Slack command call: follow / unfollow / list, with validation
    (`InvalidSubscription` / `BadDestination` are InvalidInput naming the field -> HTTP 400). Each call is one
    PutItem, DeleteItem or Query."""

    def __init__(self, store: SubscriptionStore, series_key: SeriesKeyFn = default_series_key) -> None:
        self.store = store
        self.series_key = series_key

    def follow(self, destination: str, kind: str, text: str, **options: Any) -> Subscription:
        from datetime import datetime, timezone

        allowed = {k: v for k, v in options.items() if k in ("digest", "quiet_hours", "tz") and v is not None}
        sub = Subscription.create(
            destination, kind, text, self.series_key,
            created_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), **allowed,
        )
        self.store.put(sub)
        return sub

    def unfollow(self, destination: str, kind: str, text: str) -> None:
        self.store.delete(destination, kind, normalize_key(kind, text, self.series_key))

    def list(self, destination: str) -> list[Subscription]:
        split_destination(destination)
        return self.store.for_destination(destination)


def build(settings: Any) -> SubscriptionService:
    from chalicelib import aws

    return SubscriptionService(SubscriptionStore(aws.table(settings.state_table)), resolve_series_key())
