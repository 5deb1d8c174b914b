"""The what-if explorer, servable on its own: ``panel serve apps/race.py apps/whatif.py``.

`racetwin serve` serves the same page at ``/whatif``. Here it reads the process-wide
hub that ``apps/race.py`` also uses (RACETWIN_SEED / RACETWIN_CAR), so a scenario
starts from the live race state; inputs are synced to the URL. The page sits in the
shared template (`workbench.ui.template`: header, navigation, light/dark theme).
"""

import os

import panel as pn

from workbench.service.server import shared_service
from workbench.ui.template import APP_LINKS, EXTENSIONS, page_template
from workbench.ui.whatif import WhatIfExplorer

pn.extension(*EXTENSIONS)

service = shared_service(seed=int(os.environ.get("RACETWIN_SEED", "0")), car=os.environ.get("RACETWIN_CAR", "VER"))
page = WhatIfExplorer(hub=service.hub)
page.sync_url()
pn.state.onload(page.run)
page_template(page, "What if", APP_LINKS).servable(title="Race Twin Edge — what if")
