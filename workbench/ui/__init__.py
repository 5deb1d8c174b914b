"""Panel views of the engine's objects. Imports Panel: the engine never imports this package.

Importing it loads HoloViews' Bokeh plotting backend (no notebook output), so the
components can style their plots as they build them.
"""

import holoviews.plotting.bokeh  # noqa: F401
