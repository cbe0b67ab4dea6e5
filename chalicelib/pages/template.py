"""The shared HTML layout and stylesheet (inline: one request per page, no build step), the
favicon, the HTML error page and `lang_attr` for Japanese text. Colours meet WCAG 2.2 AA in both
schemes (4.5:1 for text; 3:1 for the coloured bars against the card); dark mode follows
`prefers-color-scheme`. Bars also differ by height (and hatching below 95 %), not by colour only."""
from __future__ import annotations

import re
from html import escape

STYLE = """
:root{color-scheme:light dark;--bg:#f6f8fa;--fg:#1f2328;--muted:#59636e;--card:#fff;--line:#d1d9e0;--link:#0969da;
--top:#24292f;--cover:#e6e9ed;--initials:#424a53;
--up:#1a7f37;--minor:#3f9e53;--major:#b08800;--bad:#e16f24;--down:#cf222e;--none:#c8ccd1;--maint:#0550ae}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#161b22;--line:#3d444d;
--link:#4493f8;--top:#010409;--cover:#21262d;--initials:#c9d1d9;--none:#484f58}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans JP",sans-serif;
background:var(--bg);color:var(--fg)}
header.top{background:var(--top);color:#fff;padding:.7rem 1rem}
header.top a{color:#fff;text-decoration:none;margin-right:1rem;font-weight:600}
header.top a[aria-current]{text-decoration:underline}
main{max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}
h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
.muted{color:var(--muted);font-size:.85rem}
a{color:var(--link)}
.summary{display:flex;gap:.5rem;flex-wrap:wrap;margin:0 0 1rem}
.pill{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-size:.8rem;font-weight:600;
color:#fff;background:#59636e;white-space:nowrap}
.state-UP{background:var(--up)}.state-DEGRADED{background:var(--major);color:#1f2328}
.state-DOWN{background:var(--down)}.state-MAINTENANCE{background:var(--maint)}.state-UNKNOWN,.state-PENDING{background:#59636e}
.target{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem .9rem;margin:0 0 .75rem}
.target-head{display:flex;justify-content:space-between;align-items:center;gap:.5rem;flex-wrap:wrap}
.target-head h2{font-size:1rem;margin:0}
.target-name{font-weight:600;overflow-wrap:anywhere}
.metrics{display:flex;gap:1rem;flex-wrap:wrap;margin:.35rem 0 .5rem}
.metrics b{font-weight:600}
.bars{display:flex;gap:1px;height:28px;align-items:flex-end}
.bar{flex:1 1 0;min-width:1px;border-radius:1px;background:var(--none);height:20%}
.bar.up{background:var(--up);height:100%}.bar.minor{background:var(--minor);height:85%}
.bar.major{background:var(--major);height:70%}
.bar.bad{background:repeating-linear-gradient(45deg,var(--bad) 0 2px,transparent 2px 4px),var(--bad);height:55%}
.bar.down{background:repeating-linear-gradient(45deg,var(--down) 0 2px,#fff 2px 3px);height:40%}
.bar.maint{background:#8c959f;height:20%}
.bar-scale{display:flex;justify-content:space-between;font-size:.75rem;color:var(--muted);margin-top:.2rem}
.bad-days{font-size:.85rem;margin:.4rem 0 0}
.bad-days ul{margin:.3rem 0 0;padding-left:1.1rem;columns:12rem}
.incidents{margin:.5rem 0 0;padding-left:1.1rem;font-size:.85rem}
.legend{display:flex;gap:.8rem;flex-wrap:wrap;font-size:.78rem;color:var(--muted);margin:.2rem 0 1rem;align-items:flex-end}
.legend .swatch{display:inline-flex;align-items:flex-end;width:.8rem;height:.9rem;margin-right:.25rem;vertical-align:-2px}
.legend .bar{width:100%}
.refresh{font-size:.85rem;margin:0 0 1rem}
.weeknav{display:flex;justify-content:space-between;gap:.5rem;margin:.2rem 0 .6rem;font-size:.9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.75rem;list-style:none;margin:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden;display:flex;flex-direction:column}
.cover{aspect-ratio:2/3;background:var(--cover);display:flex;align-items:center;justify-content:center;overflow:hidden}
.cover img{width:100%;height:100%;object-fit:cover;display:block}
.cover.placeholder{aspect-ratio:4/3}
.cover span{font-size:1.6rem;font-weight:700;color:var(--initials)}
.card-body{padding:.45rem .55rem .6rem;font-size:.82rem;display:flex;flex-direction:column;gap:.15rem}
.card-body h3{margin:0;font-size:.86rem;line-height:1.25}
.card-title{font-weight:600;overflow-wrap:anywhere}
.empty{color:var(--muted);background:var(--card);border:1px dashed var(--line);border-radius:8px;padding:1rem}
footer{max-width:64rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.8rem}
@media (max-width:480px){main{padding:.6rem}.cards{grid-template-columns:1fr;gap:.5rem}
.card{flex-direction:row}.cover,.cover.placeholder{flex:0 0 64px;width:64px;aspect-ratio:2/3;align-self:flex-start}\
.cover span{font-size:1.1rem}
.bars{height:24px}.metrics{gap:.6rem;font-size:.85rem}}
"""

NAV = (("/pages/status", "Status"), ("/pages/releases", "Releases"), ("/feeds/releases.atom", "Feed"))
HTML_TYPE = "text/html; charset=utf-8"
FAVICON_TYPE = "image/svg+xml"
# Served at /favicon.ico (browsers ask there by default) and linked from every page; an SVG
# answers both as one small text body (Chromium and Firefox read SVG icons by content type).
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
           'fill="#1a7f37"/><path d="M4 3h6a2 2 0 0 1 2 2v8H6a2 2 0 0 1-2-2z" fill="#fff"/></svg>')
# Kana, CJK ideographs, half-width katakana: the sources are Japanese publishers, so CJK text is
# marked Japanese (screen readers then pick a Japanese voice; fonts pick Japanese glyph forms).
_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def lang_attr(text: str) -> str:
    """` lang="ja"` for text with Japanese characters, else nothing (the page is `lang="en"`)."""
    return ' lang="ja"' if _JAPANESE.search(text or "") else ""


def layout(title: str, body: str, *, current: str = "", head: str = "", scripts: str = "") -> str:
    """A complete HTML document; `body` and `scripts` must already be escaped HTML."""
    nav = "".join(
        f'<a href="{escape(href)}"{" aria-current=page" if href == current else ""}>{escape(label)}</a>'
        for href, label in NAV
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f'<title>{escape(title)}</title><link rel="icon" href="/favicon.ico" type="{FAVICON_TYPE}">'
        f"{head}<style>{STYLE}</style></head>"
        f'<body><header class="top"><nav aria-label="Site">{nav}</nav></header><main>{body}</main>'
        f'<footer>newbooks</footer>{scripts}</body></html>\n'
    )


def error_page(status: int, title: str, detail: str, *, back: str = "/pages/status") -> str:
    """A people's error page (the API answers problem+json; a browser gets this)."""
    body = (f'<h1>{escape(title)}</h1><p>{escape(detail)}</p>'
            f'<p class="muted">HTTP {int(status)} · <a href="{escape(back)}">back</a></p>')
    return layout(f"{title} · newbooks", body)
