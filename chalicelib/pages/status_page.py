"""The HTML status page: one row per target with a 90-day bar of daily uptime, the current
state, latency and recent incidents. `daily_bars` sums a target's hourly history (from
UptimeService.status_board: daily summary items plus raw tick rows for hours not rolled up yet)
into days; `render` turns rows into HTML. Both pure."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from chalicelib.pages.template import lang_attr, layout
from chalicelib.uptime.rollup import Rollup

DAYS = 90
STATE_ORDER = ("DOWN", "DEGRADED", "MAINTENANCE", "PENDING", "UNKNOWN", "UP")
# (minimum uptime ratio, bar class), first match wins; grey ("none"/"maint") when no data
BAR_CLASSES = ((0.999, "up"), (0.99, "minor"), (0.95, "major"), (0.90, "bad"), (0.0, "down"))
LEGEND = (("up", "≥ 99.9%"), ("minor", "≥ 99%"), ("major", "≥ 95%"), ("bad", "≥ 90%"), ("down", "< 90%"),
          ("none", "no data / maintenance"))


@dataclass
class Day:
    day: date
    passes: int = 0
    fails: int = 0
    maintenance: int = 0
    checks: int = 0

    @property
    def uptime(self) -> float | None:
        judged = self.passes + self.fails
        return None if judged == 0 else self.passes / judged

    @property
    def css(self) -> str:
        ratio = self.uptime
        if ratio is None:
            return "maint" if self.maintenance else "none"
        return next(name for floor, name in BAR_CLASSES if ratio >= floor)

    def add(self, rollup: Rollup) -> None:
        self.passes += rollup.passes
        self.fails += rollup.fails
        self.maintenance += rollup.maintenance
        self.checks += rollup.checks


def daily_bars(hours: Mapping[str, Rollup], today: date, days: int = DAYS) -> list[Day]:
    """`days` Day buckets ending today (oldest first) from an hour (`YYYY-MM-DDTHH`) -> Rollup
    map: UptimeService's hourly history, which already holds the minutes not rolled up yet."""
    first = today - timedelta(days=days - 1)
    out = [Day(first + timedelta(days=n)) for n in range(days)]
    for hour, rollup in hours.items():
        _bucket(out, first, hour[:10], rollup)
    return out


def _bucket(out: list[Day], first: date, day_text: str, rollup: Rollup) -> None:
    try:
        index = (date.fromisoformat(day_text) - first).days
    except ValueError:
        return
    if 0 <= index < len(out):
        out[index].add(rollup)


def overall(days: list[Day]) -> float | None:
    passes, fails = sum(d.passes for d in days), sum(d.fails for d in days)
    return None if passes + fails == 0 else passes / (passes + fails)


def percent(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    value = ratio * 100
    return "100%" if value >= 100 else f"{min(value, 99.99):.2f}%"


def _duration(seconds: Any) -> str:
    if seconds in (None, ""):
        return ""
    s = int(seconds)
    if s < 3600:
        return f"{max(1, s // 60)} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _incidents(incidents: list[dict[str, Any]]) -> str:
    if not incidents:
        return '<p class="muted incidents-none">No incidents recorded.</p>'
    items = []
    for incident in list(reversed(incidents))[:5]:
        start = escape(str(incident.get("start") or "?").replace("T", " "))
        if incident.get("end"):
            end = escape(str(incident["end"]).replace("T", " "))
            text = f"{start} – {end} UTC"
            length = _duration(incident.get("duration_s"))
            text += f" ({escape(length)})" if length else ""
            items.append(f'<li class="incident resolved">{text}</li>')
        else:
            items.append(f'<li class="incident ongoing"><b>ongoing</b> since {start} UTC</li>')
    return '<ul class="incidents">' + "".join(items) + "</ul>"


def _bars(days: list[Day]) -> str:
    spans = []
    for d in days:
        ratio = d.uptime
        attr = f' data-uptime="{ratio:.4f}"' if ratio is not None else ""
        spans.append(f'<span class="bar {d.css}" data-day="{d.day.isoformat()}"{attr} title="{escape(_day_text(d))}"></span>')
    return "".join(spans)


def _day_text(d: Day) -> str:
    ratio = d.uptime
    return f"{d.day.isoformat()}: " + (percent(ratio) if ratio is not None else
                                       ("maintenance" if d.maintenance else "no data"))


def bars_summary(days: list[Day]) -> str:
    """The bars' text alternative in one sentence: the whole window's uptime and how many days
    were at or above the "up" threshold, below it, or without data."""
    good = sum(1 for d in days if d.css == "up")
    bad = sum(1 for d in days if d.uptime is not None and d.css != "up")
    empty = len(days) - good - bad
    return (f"Daily uptime, {len(days)} days: {percent(overall(days))} overall; {good} days at or above "
            f"{BAR_CLASSES[0][0] * 100:g}%, {bad} below, {empty} without data")


def _bad_days(days: list[Day]) -> str:
    """The days below the "up" threshold, worst first, as a list under a disclosure."""
    bad = sorted((d for d in days if d.uptime is not None and d.css != "up"), key=lambda d: (d.uptime, d.day))
    if not bad:
        return f'<p class="muted bad-days">No day below {BAR_CLASSES[0][0] * 100:g}%.</p>'
    items = "".join(f'<li data-day="{d.day.isoformat()}">{escape(_day_text(d))}</li>' for d in bad)
    noun = "day" if len(bad) == 1 else "days"
    return (f'<details class="bad-days"><summary>{len(bad)} {noun} below {BAR_CLASSES[0][0] * 100:g}%</summary>'
            f"<ul>{items}</ul></details>")


def render_row(row: dict[str, Any]) -> str:
    name = str(row.get("name", ""))
    state = str(row.get("state") or "UNKNOWN").upper()
    state_css = state if state in STATE_ORDER else "UNKNOWN"
    days: list[Day] = row.get("days") or []
    latency = row.get("latency_ms")
    checked = row.get("last_check")
    metrics = [
        f'<span class="latency">Latency <b>{escape(f"{int(latency)} ms") if latency is not None else "–"}</b></span>',
        f'<span class="uptime-24h">24 h <b>{percent(row.get("uptime_24h"))}</b></span>',
        f'<span class="uptime-90d">90 days <b>{percent((row.get("uptime") or {}).get("90d", overall(days)))}</b></span>',
    ]
    if checked:
        metrics.append(f'<span class="muted">checked {escape(str(checked).replace("T", " "))} UTC</span>')
    group = str(row.get("group") or "")
    group_html = f' <span class="muted"{lang_attr(group)}>{escape(group)}</span>' if group else ""
    first = days[0].day.isoformat() if days else ""
    heading_id = f"name-{escape(name)}"
    return (
        f'<section class="target" id="target-{escape(name)}" aria-labelledby="{heading_id}" '
        f'data-target="{escape(name)}" data-state="{escape(state)}">'
        f'<div class="target-head"><h2 id="{heading_id}"><span class="target-name"{lang_attr(name)}>{escape(name)}</span>'
        f'{group_html}</h2><span class="pill state state-{escape(state_css)}">{escape(state)}</span></div>'
        f'<div class="metrics">{"".join(metrics)}</div>'
        f'<div class="bars" role="img" aria-label="{escape(bars_summary(days))}">{_bars(days)}</div>'
        f'<div class="bar-scale" aria-hidden="true"><span>{escape(first)}</span><span>today</span></div>'
        f"{_bad_days(days)}"
        f"{_incidents(list(row.get('incidents') or []))}</section>"
    )


# Opt-in refresh: no reload, so focus and reading position stay; only the targets and headline
# are replaced (fetched from this page's own URL), and a polite live region says when.
REFRESH_SCRIPT = """<script>
(() => {
  const box = document.getElementById("refresh-control"), said = document.getElementById("refreshed");
  const KEY = "newbooks-status-refresh", PERIOD = 60000;
  let timer = null;
  async function refresh() {
    try {
      const answer = await fetch(location.pathname, {headers: {Accept: "text/html"}, cache: "no-cache"});
      if (!answer.ok) { said.textContent = "Refresh failed (HTTP " + answer.status + ")."; return; }
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      for (const id of ["headline", "summary", "targets", "updated"]) {
        const now = document.getElementById(id), next = fresh.getElementById(id);
        if (now && next && now.innerHTML !== next.innerHTML) {
          const open = [...now.querySelectorAll("details[open]")].map(d => d.closest("section")?.id);
          now.innerHTML = next.innerHTML;
          open.forEach(s => { const d = s && document.getElementById(s)?.querySelector("details"); if (d) d.open = true; });
        }
      }
      said.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
    } catch (e) { said.textContent = "Refresh failed: offline?"; }
  }
  function set(on) {
    clearInterval(timer); timer = on ? setInterval(refresh, PERIOD) : null;
    try { localStorage.setItem(KEY, on ? "1" : ""); } catch (e) {}
  }
  box.hidden = false;
  box.querySelector("input").checked = (() => { try { return localStorage.getItem(KEY) === "1"; } catch (e) { return false; } })();
  set(box.querySelector("input").checked);
  box.querySelector("input").addEventListener("change", e => { set(e.target.checked); if (e.target.checked) refresh(); });
})();
</script>"""


def render(rows: list[dict[str, Any]], generated_at: datetime) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row.get("state") or "UNKNOWN")] = counts.get(str(row.get("state") or "UNKNOWN"), 0) + 1
    if not rows:
        headline = "No monitoring targets configured."
    elif counts.get("DOWN"):
        headline = f"{counts['DOWN']} of {len(rows)} targets down"
    elif counts.get("DEGRADED"):
        headline = f"{counts['DEGRADED']} of {len(rows)} targets degraded"
    else:
        headline = "All systems operational"
    pills = "".join(
        f'<span class="pill state-{s}">{counts[s]} {s.lower()}</span>' for s in STATE_ORDER if counts.get(s)
    )
    legend = "".join(f'<span><span class="swatch"><i class="bar {css}"></i></span>{escape(text)}</span>'
                     for css, text in LEGEND)
    body = (
        f'<h1 id="headline">{escape(headline)}</h1>'
        f'<div class="summary" id="summary">{pills}</div>'
        '<p class="refresh" id="refresh-control" hidden><label><input type="checkbox"> Refresh every minute</label> '
        '<span id="refreshed" class="muted" role="status"></span></p>'
        f'<div class="legend">{legend}</div>'
        '<div id="targets">' + "".join(render_row(r) for r in rows) + "</div>"
        + f'<p class="muted" id="updated">Updated {escape(generated_at.strftime("%Y-%m-%d %H:%M"))} UTC · '
        '<a href="/status">JSON</a></p>'
    )
    return layout("Status · newbooks", body, current="/pages/status",
                  scripts=REFRESH_SCRIPT)
