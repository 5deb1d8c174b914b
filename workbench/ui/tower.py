"""The timing tower: running order, gaps, tyres, stops and each car's pit window."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from workbench.hub.session import RaceSession
from workbench.ui.colours import compound_badge

__all__ = ["TimingTower", "TOWER_COLUMNS"]

TOWER_COLUMNS = {"rank": "Pos", "driver": "Driver", "lap": "Lap", "gap_to_leader_s": "Gap (s)",
                 "interval_s": "Int (s)", "last_lap_time_s": "Last (s)", "compound": "Tyre",
                 "tyre_age_laps": "Age", "pit_stops": "Stops", "pit_window": "Pit window",
                 "pit_in_3_laps_p": "P(pit 3)"}


# A tower an engineer reads at a glance: compact rows, every column visible in its column of the page.
_COMPACT = """
.tabulator .tabulator-cell, .tabulator .tabulator-col-title { font-size: 12px; padding: 3px 4px; }
"""


_WIDTHS_PX = {"Pos": 56, "Driver": 56, "Lap": 42, "Gap (s)": 70, "Int (s)": 64, "Last (s)": 66, "Tyre": 44,
              "Age": 42, "Stops": 56, "Pit window": 118, "P(pit 3)": 66}


def pit_window_marker(earliest: int | None, ideal: int | None, latest: int | None, lap: int) -> str:
    """``"OPEN L18 (17-20)"`` while the next lap is inside the window, else ``"L18 (17-20)"``; "" without one."""
    if ideal is None:
        return ""
    span = f" ({earliest}-{latest})" if earliest is not None and latest is not None else ""
    is_open = earliest is not None and latest is not None and earliest <= lap + 1 <= latest
    return f"{'OPEN ' if is_open else ''}L{ideal}{span}"


def _cell(value, spec: str, unit: str = "") -> str:
    """A tower cell: ``value`` formatted, or "" where there is none (the leader's interval, a lap not yet timed)."""
    if value is None or pd.isna(value):
        return ""
    return f"{value:{spec}}{unit}"


class TimingTower(pn.viewable.Viewer):
    """Position, gaps, last lap, compound with age and stops, pit window and pit probability for every car.

    Parameters
    ----------
    hub : RaceSession
        The race read on every `refresh`.
    """

    hub = param.ClassSelector(class_=RaceSession)

    def __init__(self, **params):
        super().__init__(**params)
        self._table = pn.widgets.Tabulator(self._frame(), disabled=True, show_index=False, height=620,
                                           sizing_mode="stretch_width", css_classes=["timing-tower"],
                                           formatters={"Tyre": {"type": "html"}}, layout="fit_data_table",
                                           text_align={"Pos": "center", "Tyre": "center", "Gap (s)": "right",
                                                       "Int (s)": "right", "Last (s)": "right", "Age": "right",
                                                       "Stops": "right", "P(pit 3)": "right"},
                                           widths=_WIDTHS_PX, sortable=False,
                                           stylesheets=[_COMPACT])

    def _frame(self) -> pd.DataFrame:
        rows = self.hub.field_twin.standings()
        cars = self.hub.field_twin.cars
        for row in rows:  # the twins' pit window and P(pit within 3 laps)
            row["pit_in_3_laps_p"] = (row.get("pit_probability") or {}).get("3")
            t = cars[row["driver"]]
            row["pit_window"] = "" if t.retired else pit_window_marker(
                t.pit_window_earliest_lap, t.pit_window_ideal_lap, t.pit_window_latest_lap, t.lap)
        df = pd.DataFrame(rows, columns=[*TOWER_COLUMNS, "status"])
        df["compound"] = [compound_badge(c) for c in df["compound"]]
        df["gap_to_leader_s"] = [_cell(v, "+.3f") for v in df["gap_to_leader_s"]]
        df["interval_s"] = [_cell(v, "+.3f") for v in df["interval_s"]]
        df["last_lap_time_s"] = [_cell(v, ".3f") for v in df["last_lap_time_s"]]
        df["tyre_age_laps"] = [_cell(v, ".0f") for v in df["tyre_age_laps"]]
        df["pit_in_3_laps_p"] = [_cell(None if v is None or pd.isna(v) else 100 * v, ".0f", "%")
                                 for v in df["pit_in_3_laps_p"]]
        # A unique place for every running car ("7 PIT" on its in-lap); a retired car is "OUT", below the order.
        df["rank"] = ["OUT" if status == "OUT" else f"{int(rank)}{' PIT' if status == 'PIT' else ''}"
                      for rank, status in zip(df["rank"], df["status"])]
        return df[list(TOWER_COLUMNS)].rename(columns=TOWER_COLUMNS)

    def refresh(self) -> None:
        """Re-read the standings into this session's table."""
        self._table.value = self._frame()

    def __panel__(self):
        return self._table
