"""The finish predicted from the current lap (the LivePredictor's `hub.race_prediction`)."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param

from workbench.hub.session import RaceSession

__all__ = ["PredictionPanel", "prediction_rows"]

COLUMNS = {"driver": "Driver", "position_at_k": "Now", "mean_position": "Mean", "mode_position": "Mode",
           "p_win": "P(win)", "p_podium": "P(podium)", "p_points": "P(points)",
           "predicted_remaining_stops": "Stops to go"}


def prediction_rows(prediction: dict[str, Any] | None, top: int | None = None) -> list[dict[str, Any]]:
    """The prediction's drivers, best predicted first, as display rows (probabilities in %)."""
    if not prediction:
        return []
    rows = []
    for d in prediction.get("predicted", [])[:top]:
        rows.append({"driver": d["driver"], "position_at_k": d.get("position_at_k"),
                     "mean_position": d["mean_position"], "mode_position": d.get("mode_position"),
                     **{k: 100.0 * d[k] for k in ("p_win", "p_podium", "p_points") if d.get(k) is not None},
                     "predicted_remaining_stops": d.get("predicted_remaining_stops")})
    return rows


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key.startswith("p_"):
        return f"{value:.0f}%"
    if isinstance(value, float):
        return f"{value:.2f}" if key == "mean_position" else f"{value:.1f}"
    return html.escape(str(value))


class PredictionPanel(pn.viewable.Viewer):
    """Where everyone finishes from here: mean and mode position, P(win/podium/points), stops to go.

    Shows the hub's ``race_prediction`` when built; after that `show` draws each published prediction (the
    served race page calls it on the hub's ``race_prediction`` events, each leader lap while `racetwin serve`
    runs its LivePredictor), and `refresh` pulls the newest one (a notebook).

    Parameters
    ----------
    hub : RaceSession
    top : int
        Rows shown, best predicted first.
    """

    hub = param.ClassSelector(class_=RaceSession)
    top = param.Integer(default=20, bounds=(1, 24))

    def __init__(self, **params):
        super().__init__(**params)
        self._shown: dict | None = None
        self._html = pn.pane.HTML("<i>No finish prediction yet (made each leader lap from lap 3; "
                                  "<code>racetwin serve --predict-runs 0</code> turns it off).</i>",
                                  sizing_mode="stretch_width", css_classes=["race-prediction"])
        self.refresh()

    def refresh(self) -> bool:
        """Pull the hub's newest prediction and show it if it is new; True when redrawn."""
        return self.show(self.hub.race_prediction)

    def show(self, prediction: dict[str, Any] | None) -> bool:
        """Draw a published prediction (a ``race_prediction`` payload); True when redrawn, False for None or
        the one already shown."""
        if prediction is None or prediction is self._shown:
            return False
        self._shown = prediction
        ours = self.hub.our_driver
        head = "".join(f"<th style='padding:0 5px;text-align:right'>{v}</th>" for v in COLUMNS.values())
        body = "".join(
            f"<tr style='{'font-weight:bold;background:#e3f2fd' if r['driver'] == ours else ''}'>"
            + "".join(f"<td style='padding:0 5px;text-align:right'>{_cell(k, r.get(k))}</td>" for k in COLUMNS)
            + "</tr>" for r in prediction_rows(prediction, self.top))
        self._html.object = (f"<div class='prediction-caption'>From lap {prediction.get('lap')} of "
                             f"{prediction.get('race_laps')}: {prediction.get('runs')} races, seed "
                             f"{prediction.get('seed')}</div>"
                             f"<table style='font-size:12px'><tr>{head}</tr>{body}</table>")
        return True

    def __panel__(self):
        return pn.Column("#### Predicted finish", self._html, sizing_mode="stretch_width")
