"""The URL table of /api/v1: the REST handlers, the OpenAPI document, its HTML page and the push stream.

Kept apart from `workbench.service.rest` so that the handlers, the OpenAPI document (which reads
the handlers' route declarations) and the docs page (which renders the document) import in one
direction only: rest <- openapi <- api_docs <- urls.
"""

from __future__ import annotations

from workbench.service.api_docs import API_DOCS_PATH, ApiDocsHandler
from workbench.service.openapi import OpenApiHandler
from workbench.service.rest import HANDLERS, NotFoundHandler, StreamHandler

__all__ = ["routes"]


def routes(service) -> list[tuple]:
    """The URL patterns for tornado / Bokeh's ``extra_patterns``."""
    kw = {"service": service}
    patterns = []
    for handler in HANDLERS:
        for path in dict.fromkeys(r.path for r in handler.ROUTES):
            patterns.append((path + "/?", handler, kw))
    patterns += [(r"/api/v1/openapi\.json", OpenApiHandler, kw), (r"/api/v1/stream", StreamHandler, kw),
                 (API_DOCS_PATH + "/?", ApiDocsHandler, kw), (r"/api/v1/.*", NotFoundHandler, kw)]
    return patterns
