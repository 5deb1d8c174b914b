"""The what-if explorer: a scenario against the baseline on common random numbers, off the event loop.

Pick our stops (pit laps and compounds), force a safety car from a lap, make a rival
stop now, change the pit loss or the degradation, and run: the baseline and the
scenario are simulated with the same seed and race numbers (`workbench.strategy.whatif`)
in a worker thread, with a progress bar when the run takes more than half a second.
Every input is a parameter synced to the page's URL, so a scenario is shared by
sharing the link.
"""

from __future__ import annotations

import asyncio
import time

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from workbench.hub.session import RaceSession
from workbench.race.definition import RaceDefinition
from workbench.strategy.montecarlo import RaceState
from workbench.strategy.whatif import Scenario, WhatIfResult, parse_stops, run_whatif
from workbench.telemetry.schema import TelemetryValidationError

__all__ = ["WhatIfExplorer", "URL_PARAMETERS", "PROGRESS_AFTER_S"]

PROGRESS_AFTER_S = 0.5  # runs longer than this show a progress bar
URL_PARAMETERS = {"pit_laps": "pit", "compounds": "tyres", "sc_from_lap": "sc", "sc_laps": "sc_laps",
                  "rival": "rival", "pit_loss_delta_s": "pit_loss", "degradation_scale": "deg", "runs": "runs",
                  "seed": "seed"}


class WhatIfExplorer(pn.viewable.Viewer):
    """Scenario inputs, a Run button, and the baseline-vs-scenario distributions of our finishing position.

    Parameters
    ----------
    race : RaceDefinition
        The race model (the hub's when ``hub`` is given).
    driver : str
        Our car (the hub's when ``hub`` is given).
    hub : RaceSession, optional
        When given, every run starts from the hub's live race state; else from the grid.
    """

    hub = param.ClassSelector(class_=RaceSession, default=None, allow_None=True)
    race = param.ClassSelector(class_=RaceDefinition, default=None, allow_None=True)
    driver = param.String(default="VER")
    pit_laps = param.String(default="", doc="Our remaining pit laps, e.g. '18, 36' (empty: our planned strategy).")
    compounds = param.String(default="", doc="One compound per pit lap, e.g. 'HARD, MEDIUM'.")
    sc_from_lap = param.Integer(default=0, bounds=(0, 200), doc="Force a safety car from this lap (0: none).")
    sc_laps = param.Integer(default=3, bounds=(1, 10), doc="Laps the forced safety car lasts.")
    rival = param.String(default="", doc="This rival stops at the end of the next lap (empty: none).")
    pit_loss_delta_s = param.Number(default=0.0, bounds=(-15.0, 30.0), doc="Added to every pit loss, s.")
    degradation_scale = param.Number(default=1.0, bounds=(0.0, 5.0), doc="Multiplies tyre degradation.")
    runs = param.Integer(default=4000, bounds=(100, 100_000), doc="Races in each of baseline and scenario.")
    seed = param.Integer(default=0, bounds=(0, None), doc="Seed of both (common random numbers).")
    backend = param.Selector(default="numba", objects=["numba", "numpy"])

    def __init__(self, **params):
        super().__init__(**params)
        if self.hub is not None:
            self.race = self.race or self.hub.race
            self.driver = self.hub.our_driver
        if self.race is None:
            raise ValueError("race: None; give a race definition or a hub that has one")
        self.runs_done = 0
        self.result: WhatIfResult | None = None
        self._running = False
        drivers = [d for d in self.race.drivers if d != self.driver]
        self._widgets = {
            "pit_laps": pn.widgets.TextInput.from_param(self.param.pit_laps, placeholder="e.g. 18, 36"),
            "compounds": pn.widgets.TextInput.from_param(self.param.compounds, placeholder="e.g. HARD, MEDIUM"),
            "sc_from_lap": pn.widgets.IntInput.from_param(self.param.sc_from_lap),
            "sc_laps": pn.widgets.IntInput.from_param(self.param.sc_laps),
            "rival": pn.widgets.Select.from_param(self.param.rival, options=["", *drivers]),
            "pit_loss_delta_s": pn.widgets.FloatSlider.from_param(self.param.pit_loss_delta_s, step=0.5),
            "degradation_scale": pn.widgets.FloatSlider.from_param(self.param.degradation_scale, step=0.05),
            "runs": pn.widgets.IntInput.from_param(self.param.runs, step=500),
            "seed": pn.widgets.IntInput.from_param(self.param.seed),
        }
        for key, widget in self._widgets.items():
            widget.css_classes = [f"whatif-{key}"]
        self.run_button = pn.widgets.Button(label="Run", color="primary", css_classes=["whatif-run"])
        self.run_button.on_click(self._on_click)
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width",
                                               css_classes=["whatif-progress"])
        self.status = pn.pane.HTML("<span>Not run yet.</span>", css_classes=["whatif-status"],
                                   sizing_mode="stretch_width")
        self.plot = pn.pane.HoloViews(sizing_mode="stretch_width", height=360, css_classes=["whatif-plot"])
        self.times = pn.pane.HoloViews(sizing_mode="stretch_width", height=260)
        self.summary = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["whatif-summary"])

    # -- running ---------------------------------------------------------------
    def state(self) -> RaceState:
        """Where the race stands: the hub's live state (while laps remain), else the grid."""
        hub = self.hub
        if hub is not None and 0 < hub.field_twin.leader_lap < self.race.track.laps - 1 and \
                not hub.environment.finished:
            return RaceState.from_session(hub)
        return RaceState.grid(self.race)

    def scenario(self) -> Scenario:
        """The scenario the inputs describe; raises `TelemetryValidationError` naming a bad input."""
        return Scenario(stops=parse_stops(self.pit_laps, self.compounds),
                        sc_from_lap=self.sc_from_lap or None, sc_laps=self.sc_laps, rival_stops_now=self.rival or None,
                        pit_loss_delta_s=float(self.pit_loss_delta_s), degradation_scale=float(self.degradation_scale))

    def compute(self, progress=None) -> WhatIfResult:
        """Run the scenario against the baseline now, in this thread."""
        return run_whatif(self.race, self.driver, self.scenario(), self.state(), runs=int(self.runs),
                          seed=int(self.seed), backend=self.backend, progress=progress)

    async def _on_click(self, event=None) -> None:
        await self.run()

    async def run(self) -> None:
        """Run in a worker thread; the event loop keeps serving, the progress bar shows after 0.5 s."""
        if self._running:
            return
        self._running = True
        self.run_button.disabled = True
        self.status.object = "<span>Running…</span>"
        done = [0, 1]

        def progress(k: int, total: int) -> None:
            done[0], done[1] = k, total

        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        from workbench.hub.budget import Busy, shared_budget  # one server-wide worker for on-demand runs

        try:
            future = asyncio.wrap_future(shared_budget().submit(self.compute, progress), loop=loop)
        except Busy as exc:
            self.status.object = f"<span class='whatif-busy' style='color:#c62828'>{exc}</span>"
            self.run_button.disabled = False
            self._running = False
            return
        try:
            while not future.done():
                await asyncio.wait({future}, timeout=0.1)
                if time.perf_counter() - t0 > PROGRESS_AFTER_S:
                    self.progress.visible = True
                    self.progress.value = int(100 * done[0] / done[1])
            result = future.result()
        except TelemetryValidationError as exc:
            self.status.object = f"<span class='whatif-error' style='color:#c62828'>{exc}</span>"
            return
        except Exception as exc:  # shown, never raised into the loop
            self.status.object = f"<span class='whatif-error' style='color:#c62828'>{type(exc).__name__}: {exc}</span>"
            return
        finally:
            self.progress.visible = False
            self.run_button.disabled = False
            self._running = False
        self.runs_done += 1
        self.show(result, time.perf_counter() - t0)

    def show(self, result: WhatIfResult, elapsed_s: float) -> None:
        """Draw a result: position histograms, race-time histograms and the summary."""
        self.result = result
        n = result.n_cars
        df = pd.DataFrame({"position": [f"P{p:02d}" for p in range(1, n + 1)] * 2,
                           "run": ["baseline"] * n + ["scenario"] * n,
                           "probability": list(result.position_p("baseline")) + list(result.position_p("scenario"))})
        df = df[df.groupby("position")["probability"].transform("max") > 0.002]
        self.plot.object = hv.Bars(df, ["position", "run"], "probability").opts(
            responsive=True, tools=["hover"], multi_level=False, legend_position="top_right", xlabel="",
            ylabel="P", cmap={"baseline": "#90a4ae", "scenario": "#1565c0"},
            title=f"{result.driver} finishing position from lap {result.laps_completed}: {result.description}")
        finite = [t[~np.isnan(t)] for t in (result.baseline_time_s, result.scenario_time_s)]
        both = np.concatenate(finite)
        edges = np.histogram_bin_edges(both, 40) if both.size else np.array([0.0, 1.0])
        hists = [hv.Histogram(np.histogram(t, edges), kdims="race_time_s", label=which).opts(alpha=0.5, color=colour)
                 for t, which, colour in zip(finite, ("baseline", "scenario"), ("#90a4ae", "#1565c0"))]
        self.times.object = hv.Overlay(hists).opts(
            responsive=True, title="Race time (finishers)", xlabel="race time (s)", legend_position="top_right")
        s = result.summary()
        rows = "".join(
            f"<tr><td>{label}</td><td>{s['baseline'][k]:{fmt}}</td><td>{s['scenario'][k]:{fmt}}</td>"
            f"<td><b>{s['delta'][k]:+{fmt}}</b></td></tr>"
            for label, k, fmt in (("mean position", "mean_position", ".2f"),
                                  ("expected points", "expected_points", ".2f"), ("P(points)", "p_points", ".3f")))
        self.summary.object = (f"<table><tr><th></th><th>baseline</th><th>scenario</th><th>Δ</th></tr>{rows}</table>"
                               f"<p>Same {result.runs} races (seed {result.seed}): the scenario finishes ahead in "
                               f"{s['paired_better']:.1%} of them and behind in {s['paired_worse']:.1%}.</p>")
        self.status.object = (f"<span class='whatif-done' data-run='{self.runs_done}'>Run {self.runs_done} complete: "
                              f"{2 * result.runs} races in {elapsed_s:.2f} s — {result.description}</span>")

    # -- page --------------------------------------------------------------------
    def sync_url(self) -> None:
        """Keep the inputs in the page's URL query (served pages only)."""
        if pn.state.location is not None:
            pn.state.location.sync(self, URL_PARAMETERS)

    def __panel__(self):
        inputs = pn.Column("### What if…", "**Our strategy**", self._widgets["pit_laps"], self._widgets["compounds"],
                           "**Race**", self._widgets["sc_from_lap"], self._widgets["sc_laps"], self._widgets["rival"],
                           "**Model**", self._widgets["pit_loss_delta_s"], self._widgets["degradation_scale"],
                           "**Monte Carlo**", self._widgets["runs"], self._widgets["seed"], self.run_button,
                           self.progress, width=320)
        return pn.Row(inputs, pn.Column(self.status, self.summary, self.plot, self.times,
                                        sizing_mode="stretch_width"), sizing_mode="stretch_width")
