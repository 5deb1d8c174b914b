"""The live race page, servable on its own: ``panel serve apps/race.py apps/whatif.py``.

`racetwin serve` serves the same page at ``/`` together with the REST API. Here one
process-wide hub replays the bundled race at 1x (seed and car from the URL-free
environment variables RACETWIN_SEED / RACETWIN_CAR) and every session reads it. The page
sits in the shared template (`workbench.ui.template`: header, navigation, light/dark theme).
"""

import os

import panel as pn

from workbench.service.server import shared_service
from workbench.ui.race import RaceDashboard
from workbench.ui.template import APP_LINKS, EXTENSIONS, page_template

pn.extension(*EXTENSIONS)

service = shared_service(seed=int(os.environ.get("RACETWIN_SEED", "0")), car=os.environ.get("RACETWIN_CAR", "VER"))
page = RaceDashboard(hub=service.hub, service=service)
page.start_refresh()
page_template(page, "Race", APP_LINKS).servable(title="Race Twin Edge")
