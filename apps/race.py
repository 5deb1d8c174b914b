"""The live race page, servable on its own: ``panel serve apps/race.py apps/whatif.py``.

`racetwin serve` serves the same page at ``/`` together with the REST API. Here one
process-wide service (`app_service`: `build_service` with `racetwin serve`'s defaults, so the
strategy engine, the recommendations and the finish prediction run too, but no store) replays
the bundled race and every session reads it; RACETWIN_SEED / RACETWIN_CAR / RACETWIN_SPEED
(environment variables) change seed, car and speed. The page
sits in the shared template (`workbench.ui.template`: header, navigation, light/dark theme).
"""

import panel as pn

from workbench.service.server import app_service
from workbench.ui.race import RaceDashboard
from workbench.ui.template import APP_LINKS, EXTENSIONS, page_template

pn.extension(*EXTENSIONS)

service = app_service()  # build_service(ServiceConfig.from_env()) once per process, then shared
page = RaceDashboard(hub=service.hub, service=service)
page.start_refresh()
page_template(page, "Race", APP_LINKS).servable(title="Race Twin Edge")
