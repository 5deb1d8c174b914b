"""``/api/v1/docs``: the OpenAPI document as one human-readable HTML page, generated, self-contained, offline.

Nothing is written twice: every endpoint, parameter, response and schema on the page comes from
`workbench.service.openapi.openapi_document`. The page has no script and no external resource (no CDN),
so it works on a machine with no network; it follows the browser's light or dark preference.
"""

from __future__ import annotations

import functools
from html import escape
from typing import Any

from workbench.service.openapi import openapi_document
from workbench.service.rest import ApiHandler

__all__ = ["ApiDocsHandler", "render_api_docs", "API_DOCS_PATH"]

API_DOCS_PATH = "/api/v1/docs"

_CSS = """
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de;
        --code: #f3f4f6; --get: #0969da; --post: #1a7f37; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8b949e; --line: #30363d; --code: #161b22;
          --get: #58a6ff; --post: #3fb950; } }
body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto;
       max-width: 1100px; padding: 1rem 2rem 4rem; }
a { color: var(--get); } code, .type { font-family: ui-monospace, monospace; font-size: 13px; }
code { background: var(--code); padding: 0 .25em; border-radius: 3px; }
nav.pages a { margin-right: 1rem; } .muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border-bottom: 1px solid var(--line); text-align: left; padding: .25rem .5rem; vertical-align: top; }
.method { font-weight: 700; text-transform: uppercase; margin-right: .5rem; }
.method.get { color: var(--get); } .method.post { color: var(--post); }
section.op, section.schema { border-top: 1px solid var(--line); padding-top: .5rem; margin-top: 1rem; }
"""


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-" + "".join(c if c.isalnum() else "-" for c in name).strip("-")


def _type(schema: Any) -> str:
    """A schema's type in a few words of HTML: links for references, ``a | b`` for unions."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#{_anchor("schema", name)}">{escape(name)}</a>'
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{escape(repr(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{escape(repr(schema['const']))}</code>"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return (" &amp; " if key == "allOf" else " | ").join(_type(s) for s in schema[key])
    kind = schema.get("type", "object" if "properties" in schema else "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for k in kinds:
        if k == "array":
            words.append(f"array of {_type(schema.get('items'))}")
        elif k == "object" and isinstance(schema.get("additionalProperties"), dict):
            words.append(f"object of {_type(schema['additionalProperties'])}")
        else:
            words.append(escape(str(k)))
    bounds = [f"{escape(op)} {schema[key]}" for key, op in (("minimum", "≥"), ("maximum", "≤"),
                                                              ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<"))
              if key in schema]
    return " | ".join(words) + (f" <span class='muted'>({', '.join(bounds)})</span>" if bounds else "")


def _properties_table(schema: dict[str, Any]) -> str:
    props = schema.get("properties") or {}
    if not props:
        return f"<p class='type'>{_type(schema)}</p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code>{' <span class=muted>required</span>' if name in required else ''}"
        f"</td><td class='type'>{_type(spec)}</td>"
        f"<td>{escape(str(spec.get('description') or spec.get('title') or '')) if isinstance(spec, dict) else ''}"
        "</td></tr>"
        for name, spec in props.items())
    return f"<table><tr><th>field</th><th>type</th><th>meaning</th></tr>{rows}</table>"


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [f"<section class='op' id='{_anchor('op', op.get('operationId', method + path))}'>",
             f"<h3><span class='method {escape(method)}'>{escape(method)}</span><code>{escape(path)}</code></h3>",
             f"<p>{escape(op.get('summary', ''))}</p>"]
    if op.get("security"):
        parts.append("<p class='muted'>Needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>")
    if op.get("parameters"):
        rows = "".join(f"<tr><td><code>{escape(p['name'])}</code> <span class='muted'>{escape(p['in'])}</span></td>"
                       f"<td class='type'>{_type(p.get('schema'))}</td><td>{escape(p.get('description') or '')}</td>"
                       "</tr>" for p in op["parameters"])
        parts.append(f"<h4>Parameters</h4><table><tr><th>name</th><th>type</th><th>meaning</th></tr>{rows}</table>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        parts.append(f"<h4>Request body</h4><p class='type'>{_type(body)}</p>")
    rows = "".join(f"<tr><td>{escape(status)}</td><td>{escape(r.get('description', ''))}</td><td class='type'>"
                   f"{_type(r.get('content', {}).get('application/json', {}).get('schema'))}</td></tr>"
                   for status, r in op.get("responses", {}).items())
    parts.append(f"<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>{rows}</table>")
    return "".join(parts) + "</section>"


def render_api_docs(doc: dict[str, Any], links: dict[str, str] | None = None) -> str:
    """The whole HTML page for an OpenAPI 3.1 document ``doc``; ``links``: navigation label -> URL."""
    info = doc.get("info", {})
    title = escape(info.get("title", "API"))
    nav = "".join(f'<a href="{escape(url)}">{escape(label)}</a>' for label, url in (links or {}).items())
    ops = [(path, method, op) for path, methods in doc.get("paths", {}).items() for method, op in methods.items()]
    toc = "".join(f"<li><a href='#{_anchor('op', op.get('operationId', method + path))}'><span class='method "
                  f"{escape(method)}'>{escape(method)}</span><code>{escape(path)}</code></a> — "
                  f"{escape(op.get('summary', ''))}</li>" for path, method, op in ops)
    schemas = doc.get("components", {}).get("schemas", {})
    schema_html = "".join(
        f"<section class='schema' id='{_anchor('schema', name)}'><h3><code>{escape(name)}</code></h3>"
        f"<p>{escape(str(s.get('description') or s.get('title') or ''))}</p>{_properties_table(s)}</section>"
        for name, s in sorted(schemas.items()))
    version = escape(info.get("version", ""))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} {version}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_CSS}</style></head>"
            f"<body><nav class='pages'>{nav}</nav><h1>{title} <span class='muted'>{version}</span></h1>"
            f"<p>{escape(info.get('description', ''))}</p>"
            f"<p>Generated from <a href='/api/v1/openapi.json'><code>/api/v1/openapi.json</code></a> "
            f"(OpenAPI {escape(doc.get('openapi', ''))}). Every response carries <code>api_version</code>.</p>"
            f"<h2>Endpoints</h2><ul class='toc'>{toc}</ul>"
            + "".join(_operation(p, m, o) for p, m, o in ops)
            + f"<h2>Schemas</h2>{schema_html}</body></html>")


@functools.cache
def _page() -> str:
    return render_api_docs(openapi_document(), {"Race": "/", "What if": "/whatif", "API": API_DOCS_PATH})


class ApiDocsHandler(ApiHandler):
    """``GET /api/v1/docs``: the generated HTML page (built once per process)."""

    ROUTES = ()

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")

    def get(self) -> None:
        self.set_status(200)
        self.finish(_page())
