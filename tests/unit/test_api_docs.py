"""The human API page is generated from the OpenAPI document and is self-contained; the pages' template."""

import re

import pytest

from workbench.service.api_docs import render_api_docs
from workbench.service.openapi import openapi_document


def test_api_page_lists_every_operation_and_schema_and_loads_nothing_external():
    doc = openapi_document()
    html = render_api_docs(doc, {"Race": "/"})
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert f"<span class='method {method}'>{method}</span><code>{path}</code></h3>" in html, (method, path)
            assert op["summary"].replace("'", "&#x27;") in html
    for name in doc["components"]["schemas"]:
        assert f"<h3><code>{name}</code></h3>" in html, name
    refs = set(re.findall(r"href='#(schema-[^']+)'", html)) | set(re.findall(r'href="#(schema-[^"]+)"', html))
    anchors = set(re.findall(r"id='(schema-[^']+)'", html))
    assert refs and refs <= anchors  # every type link lands on a schema on the page
    assert not re.search(r"""(?:src|href)=['"]?(?:https?:)?//""", html)  # no CDN, no web font, no script
    assert "<script" not in html


def test_api_page_escapes_what_it_shows():
    doc = {"openapi": "3.1.0", "info": {"title": "<b>x</b>", "version": "1"},
           "paths": {"/a": {"get": {"summary": "<script>alert(1)</script>", "responses": {}}}}}
    html = render_api_docs(doc)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_template_marks_the_active_page_and_refuses_an_unknown_one():
    import panel as pn

    from workbench.ui.template import SERVE_LINKS, nav_html, page_template

    nav = nav_html(SERVE_LINKS, "What if")
    assert re.findall(r"<a href='([^']+)' class='(\w*)'", nav) == [("/", ""), ("/whatif", "active"),
                                                                    ("/api/v1/docs", "")]
    with pytest.raises(ValueError, match="active: 'Home' is not one of the pages"):
        nav_html(SERVE_LINKS, "Home")
    template = page_template(pn.pane.Markdown("x"), "Race")
    assert isinstance(template, pn.template.FastListTemplate) and template.theme_toggle
    assert "class='active' data-page='Race'" in template.header[0].object
