"""One page template for every served page: a header with the race's name and navigation, light/dark theme.

`racetwin serve` and ``panel serve apps/*.py`` wrap each page (`RaceDashboard`, `WhatIfExplorer`) in
`page_template`; a notebook renders the bare components instead. The template is Panel's
`FastListTemplate` (its resources are bundled with Panel and served by the app's own server: no CDN);
the header's toggle switches light and dark, and ``?theme=dark`` opens a page dark.
"""

from __future__ import annotations

from html import escape

import panel as pn
from panel.io.resources import LOCAL_DIST, use_cdn
from panel.theme import fast as panel_fast

__all__ = ["EXTENSIONS", "SERVE_LINKS", "APP_LINKS", "SITE_TITLE", "nav_html", "page_template"]

SITE_TITLE = "Race Twin Edge"
# Panel extensions the pages use: `pn.extension(*EXTENSIONS)` in apps/*.py loads them before any page.
EXTENSIONS = ("tabulator",)
# Navigation of `racetwin serve` (pages at / and /whatif, the REST API's human page beside them) ...
SERVE_LINKS = {"Race": "/", "What if": "/whatif", "API": "/api/v1/docs"}
# ... and of `panel serve apps/race.py apps/whatif.py` (pages at /race and /whatif, no REST API).
APP_LINKS = {"Race": "./race", "What if": "./whatif"}

# The Fast design's default font comes from Google Fonts: the system font keeps the page offline.
SYSTEM_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


class Fast(panel_fast.Fast):
    """Panel's Fast design without its web font (Open Sans from Google Fonts): every resource is local.

    Named ``Fast`` on purpose: Panel finds a design's bundled files by its lower-cased class name.
    """

    _resources = {**panel_fast.Fast._resources, "font": {}}

_NAV_CSS = """
.rt-nav { display: flex; gap: 18px; align-items: center; font-size: 15px; }
.rt-nav a { color: inherit; text-decoration: none; opacity: 0.8; padding: 2px 0; }
.rt-nav a:hover { opacity: 1; }
.rt-nav a.active { opacity: 1; font-weight: 700; border-bottom: 2px solid currentColor; }
"""


def serve_styles_locally() -> None:
    """Make this session's components load their stylesheets from the app's own server, never the CDN.

    Panel patches stylesheet URLs to the local ``static/extensions/panel/`` only for a session whose page
    HTML it rendered. A browser that takes longer than the unused-session lifetime (2 s in `racetwin
    serve`) to open its WebSocket gets a fresh session that never had its page rendered, and every
    component stylesheet then points at cdn.holoviz.org, which an offline machine cannot reach (the
    tower loses its table styles). Setting the session's ``dist_url`` up front closes that gap.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None or use_cdn():
        return
    doc._template_variables.setdefault("dist_url", f"{pn.state.rel_path}/{LOCAL_DIST}" if pn.state.rel_path
                                       else LOCAL_DIST)


def nav_html(links: dict[str, str], active: str) -> str:
    """The header's links, ``active`` (a label of ``links``) marked as the current page."""
    if active not in links:
        raise ValueError(f"active: {active!r} is not one of the pages {list(links)}")
    return "<nav class='rt-nav'>" + "".join(
        f"<a href='{escape(url)}' class='{'active' if label == active else ''}' data-page='{escape(label)}'>"
        f"{escape(label)}</a>" for label, url in links.items()) + "</nav>"


def page_template(page, active: str, links: dict[str, str] | None = None) -> pn.template.FastListTemplate:
    """``page`` (any Panel object) in the shared template, with ``active`` marked in the navigation.

    Parameters
    ----------
    page : Viewable
        The page's content (e.g. a `RaceDashboard`).
    active : str
        The label of this page in ``links``.
    links : dict, optional
        Navigation label -> URL; `SERVE_LINKS` by default.
    """
    links = SERVE_LINKS if links is None else links
    serve_styles_locally()
    nav = pn.pane.HTML(nav_html(links, active), stylesheets=[_NAV_CSS], margin=(0, 20), css_classes=["rt-nav-pane"])
    template = pn.template.FastListTemplate(title=SITE_TITLE, header=[nav], main=[page], theme_toggle=True,
                                            main_layout=None, accent="#e10600", font=SYSTEM_FONT,
                                            design=Fast)
    template.param.update(site_url=links[next(iter(links))])  # the title links to the first page
    return template
