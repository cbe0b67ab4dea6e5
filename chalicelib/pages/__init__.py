"""Feeds, HTML pages and SVG badges.

Renderers are pure (data in -> str out): `feeds` (Atom, RSS 2.0, iCalendar), `status_page`,
`releases_page`, `badges`, with the shared CSS and layout in `template`. `service` is the only
module that reads data (bounded Query/GetItem calls through the existing services, never a Scan)
and hands it to the renderers.
"""
