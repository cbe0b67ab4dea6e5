"""The shared HTML layout and stylesheet (inline: one request per page, no build step)."""
from __future__ import annotations

from html import escape

STYLE = """
:root{--bg:#f6f8fa;--fg:#1f2328;--muted:#59636e;--card:#fff;--line:#d1d9e0;
--up:#1a7f37;--minor:#7dc383;--major:#d4a72c;--bad:#e16f24;--down:#cf222e;--none:#c8ccd1;--maint:#8fa8c8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans JP",sans-serif;
background:var(--bg);color:var(--fg)}
header.top{background:#24292f;color:#fff;padding:.7rem 1rem}
header.top a{color:#fff;text-decoration:none;margin-right:1rem;font-weight:600}
header.top a.here{text-decoration:underline}
main{max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}
h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
.muted{color:var(--muted);font-size:.85rem}
a{color:#0969da}
.summary{display:flex;gap:.5rem;flex-wrap:wrap;margin:0 0 1rem}
.pill{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-size:.8rem;font-weight:600;
color:#fff;background:var(--none);white-space:nowrap}
.state-UP{background:var(--up)}.state-DEGRADED{background:var(--major);color:#1f2328}
.state-DOWN{background:var(--down)}.state-MAINTENANCE{background:var(--maint)}.state-UNKNOWN{background:#6e7781}
.target{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem .9rem;margin:0 0 .75rem}
.target-head{display:flex;justify-content:space-between;align-items:center;gap:.5rem;flex-wrap:wrap}
.target-name{font-weight:600;overflow-wrap:anywhere}
.metrics{display:flex;gap:1rem;flex-wrap:wrap;margin:.35rem 0 .5rem}
.metrics b{font-weight:600}
.bars{display:flex;gap:1px;height:28px;align-items:stretch}
.bar{flex:1 1 0;min-width:1px;border-radius:1px;background:var(--none)}
.bar.up{background:var(--up)}.bar.minor{background:var(--minor)}.bar.major{background:var(--major)}
.bar.bad{background:var(--bad)}.bar.down{background:var(--down)}.bar.maint{background:#b1bac4}
.bar-scale{display:flex;justify-content:space-between;font-size:.75rem;color:var(--muted);margin-top:.2rem}
.incidents{margin:.5rem 0 0;padding-left:1.1rem;font-size:.85rem}
.legend{display:flex;gap:.8rem;flex-wrap:wrap;font-size:.78rem;color:var(--muted);margin:.2rem 0 1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:-1px;margin-right:.25rem}
.weeknav{display:flex;justify-content:space-between;gap:.5rem;margin:.2rem 0 .6rem;font-size:.9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.75rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden;display:flex;flex-direction:column}
.cover{aspect-ratio:2/3;background:#e6e9ed;display:flex;align-items:center;justify-content:center;overflow:hidden}
.cover img{width:100%;height:100%;object-fit:cover;display:block}
.cover.placeholder{aspect-ratio:4/3}
.cover span{font-size:1.6rem;font-weight:700;color:#8c959f}
.card-body{padding:.45rem .55rem .6rem;font-size:.82rem;display:flex;flex-direction:column;gap:.15rem}
.card-title{font-weight:600;font-size:.86rem;line-height:1.25;overflow-wrap:anywhere}
.empty{color:var(--muted);background:var(--card);border:1px dashed var(--line);border-radius:8px;padding:1rem}
footer{max-width:64rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.8rem}
@media (max-width:480px){main{padding:.6rem}.cards{grid-template-columns:1fr;gap:.5rem}
.card{flex-direction:row}.cover,.cover.placeholder{flex:0 0 64px;width:64px;aspect-ratio:2/3;align-self:flex-start}.cover span{font-size:1.1rem}
.bars{height:24px}.metrics{gap:.6rem;font-size:.85rem}}
"""

NAV = (("/pages/status", "Status"), ("/pages/releases", "Releases"), ("/feeds/releases.atom", "Feed"))


def layout(title: str, body: str, *, current: str = "", refresh_s: int | None = None, head: str = "") -> str:
    """A complete HTML document; `body` must already be escaped HTML."""
    nav = "".join(
        f'<a href="{escape(href)}"{" class=here" if href == current else ""}>{escape(label)}</a>' for href, label in NAV
    )
    refresh = f'<meta http-equiv="refresh" content="{int(refresh_s)}">' if refresh_s else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{refresh}<title>{escape(title)}</title>{head}<style>{STYLE}</style></head>"
        f'<body><header class="top"><nav>{nav}</nav></header><main>{body}</main>'
        '<footer>newbooks</footer></body></html>\n'
    )
