"""The live race page: timing tower and lap-time chart, refreshed from the hub.

Each browser session owns its widgets and its periodic callback (stopped when
the session closes); all sessions read the one shared `RaceSession`.
"""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param

from workbench.service.session import RaceSession

__all__ = ["RaceDashboard", "TimingTower", "LapTimeChart", "COMPOUND_COLOURS"]

COMPOUND_COLOURS = {"SOFT": "#da291c", "MEDIUM": "#ffd12e", "HARD": "#f0f0ec", "INTERMEDIATE": "#43b02a",
                    "WET": "#0067ad"}
TOWER_COLUMNS = {"rank": "Pos", "driver": "Driver", "lap": "Lap", "gap_to_leader_s": "Gap (s)",
                 "interval_s": "Int (s)", "last_lap_time_s": "Last (s)", "compound": "Tyre",
                 "tyre_age_laps": "Age", "pit_stops": "Stops", "pit_window_ideal_lap": "Pit lap",
                 "pit_in_3_laps_p": "P(pit 3)"}


class TimingTower(pn.viewable.Viewer):
    """Position, gaps, last lap, compound with age and stops, pit window and pit probability for every car."""

    hub = param.ClassSelector(class_=RaceSession)

    def __init__(self, **params):
        super().__init__(**params)
        self._table = pn.widgets.Tabulator(self._frame(), disabled=True, show_index=False, height=620,
                                           sizing_mode="stretch_width",
                                           formatters={"Tyre": {"type": "html"}}, layout="fit_data_table",
                                           text_align={"Pos": "center", "Tyre": "center"})

    def _frame(self) -> pd.DataFrame:
        rows = self.hub.field_twin.standings()
        for row in rows:  # the twins' pit window (ideal in-lap) and P(pit within 3 laps)
            row["pit_in_3_laps_p"] = (row.get("pit_probability") or {}).get("3")
        df = pd.DataFrame(rows, columns=[*TOWER_COLUMNS, "retired", "in_pit"])
        badge = '<span style="background:#222;color:{};font-weight:bold;padding:0 4px;border-radius:3px">{}</span>'
        df["compound"] = [badge.format(COMPOUND_COLOURS.get(c, "#888"), c[0]) if isinstance(c, str) else ""
                          for c in df["compound"]]
        df["rank"] = [("OUT" if out else "PIT" if pit else str(rank))
                      for rank, out, pit in zip(df["rank"], df["retired"].astype(bool), df["in_pit"].astype(bool))]
        return df[list(TOWER_COLUMNS)].rename(columns=TOWER_COLUMNS)

    def refresh(self) -> None:
        self._table.value = self._frame()

    def __panel__(self):
        return self._table


class LapTimeChart(pn.viewable.Viewer):
    """Lap time of every car against lap number (pit and SC laps included, clipped)."""

    hub = param.ClassSelector(class_=RaceSession)

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HoloViews(sizing_mode="stretch_width", height=420)
        self._drivers: list[str] = []
        self.refresh()

    def _frame(self) -> pd.DataFrame:
        laps = self.hub.laps
        return pd.DataFrame({"driver": [r.driver for r in laps], "lap": [r.lap_number for r in laps],
                             "lap_time_s": [r.lap_time_s for r in laps]})

    def _plot(self, data: pd.DataFrame):
        # One curve per known driver, always: a DynamicMap overlay must keep its keys.
        groups = dict(list(data.groupby("driver")))
        empty = pd.DataFrame({"lap": pd.Series(dtype=int), "lap_time_s": pd.Series(dtype=float)})
        curves = {d: hv.Curve(groups.get(d, empty), "lap", "lap_time_s", label=d) for d in self._drivers}
        finite = data["lap_time_s"].dropna()
        ylim = (finite.quantile(0.02) - 1, finite.quantile(0.9) + 2) if len(finite) > 10 else (None, None)
        return hv.NdOverlay(curves, kdims="driver").opts(
            hv.opts.Curve(tools=["hover"], line_width=1.5, framewise=True),
            hv.opts.NdOverlay(legend_position="right", ylim=ylim, responsive=True, title="Lap times",
                              xlabel="lap", ylabel="lap time (s)", framewise=True))

    def refresh(self) -> None:
        data = self._frame()
        drivers = sorted(self.hub.field_twin.cars)
        if drivers != self._drivers:  # new cars: rebuild the plot with a stream of its own
            self._drivers = drivers
            self._pipe = hv.streams.Pipe(data=data)
            self._pane.object = hv.DynamicMap(self._plot, streams=[self._pipe])
        else:
            self._pipe.send(data)

    def __panel__(self):
        return self._pane


class RaceDashboard(pn.viewable.Viewer):
    """The live race page: header, timing tower, lap-time chart."""

    hub = param.ClassSelector(class_=RaceSession)
    refresh_ms = param.Integer(default=1000, bounds=(100, None), doc="How often a session pulls from the hub.")

    def __init__(self, **params):
        super().__init__(**params)
        self.tower = TimingTower(hub=self.hub)
        self.lap_chart = LapTimeChart(hub=self.hub)
        self.header = pn.pane.Markdown(self._header_text(), name="race-header")
        self._seen_version = self.hub.lap_version
        self._callback = None

    def _header_text(self) -> str:
        env, car = self.hub.environment, self.hub.car_twin
        total = env.total_laps or "?"
        ours = f"P{car.position}" if car.position else "—"
        return (f"### {env.track or 'No session'} — lap {env.leader_lap}/{total} — {env.track_status.value}"
                f" — our car {car.driver} {ours}{' — FINISHED' if env.finished else ''}")

    def refresh(self) -> None:
        """Pull the hub's state into this session's widgets (cheap when nothing changed)."""
        with pn.io.hold():
            self.header.object = self._header_text()
            if self.hub.lap_version != self._seen_version:
                self._seen_version = self.hub.lap_version
                self.tower.refresh()
                self.lap_chart.refresh()

    def start_refresh(self) -> None:
        """Pull from the hub every ``refresh_ms`` in this browser session; stop when it closes."""
        if pn.state.curdoc is None or self._callback is not None:
            return
        self._callback = pn.state.add_periodic_callback(self.refresh, period=self.refresh_ms)
        pn.state.on_session_destroyed(self._stop_refresh)

    def _stop_refresh(self, session_context) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def __panel__(self):
        return pn.Column(self.header, pn.Row(pn.Column(self.tower, width=640), self.lap_chart,
                                             sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
