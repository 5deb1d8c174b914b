"""The what-if explorer, servable on its own: ``panel serve apps/race.py apps/whatif.py``.

`racetwin serve` serves the same page at ``/whatif``. Here it reads the process-wide
service that ``apps/race.py`` also uses (`app_service`; RACETWIN_SEED / RACETWIN_CAR /
RACETWIN_SPEED), so a scenario starts from the live race state; inputs are synced to the URL. The page sits in the
shared template (`workbench.ui.template`: header, navigation, light/dark theme).
"""

import panel as pn

from workbench.service.server import app_service
from workbench.ui.template import APP_LINKS, EXTENSIONS, page_template
from workbench.ui.whatif import WhatIfExplorer

pn.extension(*EXTENSIONS)

service = app_service()  # build_service(ServiceConfig.from_env()) once per process, then shared
page = WhatIfExplorer(hub=service.hub, seed=service.config.seed)
page.sync_url()
pn.state.onload(page.run)
page_template(page, "What if", APP_LINKS).servable(title="Race Twin Edge — what if")
