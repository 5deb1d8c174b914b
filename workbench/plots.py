"""Standalone HTML plots for ``racetwin predict``, ``simulate`` and ``calibrate`` (``--plot FILE.html``).

Each ``*_plot`` function builds a HoloViews object from what the command computed; `save_html`
writes it as one offline page (Bokeh JS/CSS inlined, no CDN). HoloViews and Bokeh are imported
inside the functions so the engine never imports a view library at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save_html", "predict_plot", "sweep_plot", "simulate_plot", "degradation_plot", "loro_plot",
           "write_plot"]


def _hv():
    import holoviews as hv

    if "bokeh" not in hv.Store.renderers:
        hv.extension("bokeh", logo=False)
    return hv


def save_html(obj: Any, path: Path, title: str) -> Path:
    """Write ``obj`` to ``path`` as a self-contained HTML page (inline Bokeh resources, works offline)."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    hv = _hv()

    class _InlineOnly(type(INLINE)):
        """Inline JS/CSS only: Panel (imported by HoloViews) adds a relative ``es-module-shims`` file
        that a plain plot does not use and that would not load from disk."""

        @property
        def js_files(self) -> list[str]:
            return []

        @property
        def css_files(self) -> list[str]:
            return []

        def clone(self, *, components=None):  # bokeh bundles with a clone
            copy = super().clone(components=components)
            copy.__class__ = _InlineOnly
            return copy

    # bokeh's own page, not hv.save's Panel template (which links a CDN favicon)
    html = file_html(hv.render(obj, backend="bokeh"), _InlineOnly(mode="inline"), title)
    Path(path).write_text(html, encoding="utf-8")
    return path


def predict_plot(pred) -> Any:
    """Per driver: simulated mean finishing position, predicted position, position at lap K, and the actual.

    ``pred`` is a `workbench.strategy.predict.Prediction`; drivers in predicted order on x, P1 at the top.
    """
    hv = _hv()
    rows = pred.drivers
    layers = [
        hv.Scatter([(r["driver"], r["mean_position"]) for r in rows], "driver", "position",
                   label="mean simulated position").opts(size=9, marker="circle"),
        hv.Scatter([(r["driver"], r["predicted_position"]) for r in rows], "driver", "position",
                   label="predicted position").opts(size=9, marker="diamond"),
        hv.Scatter([(r["driver"], r["position_at_k"]) for r in rows], "driver", "position",
                   label=f"order at lap {pred.at_lap}").opts(size=7, marker="square"),
    ]
    if pred.actual:
        layers.append(hv.Scatter([(r["driver"], pred.actual["position"][r["driver"]]) for r in rows
                                  if r["driver"] in pred.actual["position"]], "driver", "position",
                                 label="actual finish").opts(size=9, marker="x", line_width=2))
    title = (f"Predicted finish from the end of lap {pred.at_lap} of {pred.race_laps} "
             f"({pred.runs} races, seed {pred.seed})")
    return hv.Overlay(layers).opts(
        hv.opts.Scatter(width=900, height=450, invert_yaxis=True, show_grid=True, xrotation=45,
                        tools=["hover"]),
        hv.opts.Overlay(title=title, legend_position="right"))


def sweep_plot(rows: list[dict[str, Any]]) -> Any:
    """Model vs naive finishing-position MAE at each K of a ``predict --sweep`` (out of sample)."""
    hv = _hv()
    data = [(f"K={r['at_lap']}", who, r[key]) for r in rows
            for who, key in (("model", "mae_positions"), ("naive (order at K stays)", "naive_mae_positions"))]
    return hv.Bars(data, ["K", "predictor"], "MAE (positions)").opts(
        width=700, height=400, tools=["hover"], multi_level=True, show_legend=True,
        title="predict --sweep: finishing-position MAE, out of sample (fitted on laps <= K)")


def simulate_plot(payload: dict[str, Any]) -> Any:
    """Finishing-position probability per driver (heat map), drivers by mean position.

    ``payload`` is ``racetwin simulate``'s JSON object; with one race it shows that race's order.
    """
    hv = _hv()
    if payload.get("drivers"):
        ranked = sorted(payload["drivers"].items(), key=lambda kv: kv[1]["mean_position"])
        data = [(d, f"P{k}", float(p)) for d, s in ranked for k, p in enumerate(s["position_p"], start=1)]
        label = f"finishing position distribution over {payload['runs']} races (seed {payload['seed']})"
    else:
        n = len(payload["first_race"])
        data = [(r["driver"], f"P{k}", 1.0 if k == r["position"] else 0.0)
                for r in payload["first_race"] for k in range(1, n + 1)]
        label = f"finishing order of the one race simulated (seed {payload['seed']})"
    return hv.HeatMap(data, ["driver", "position"], "probability").opts(
        width=900, height=600, cmap="Blues", colorbar=True, tools=["hover"], xrotation=45,
        invert_yaxis=True, title=f"{payload['race']}: {label}")


def degradation_plot(report: dict[str, Any], clean) -> Any:
    """Per compound: clean, fuel-corrected lap times vs tyre age (stint level removed) and the fitted curve.

    Parameters
    ----------
    report : dict
        `workbench.twins.calibrate.calibrate`'s report (``compounds`` with the chosen family and coefficients).
    clean : DataFrame
        The clean laps (`workbench.twins.lap_table.mark_clean_laps`, ``Clean`` rows): Driver, Stint,
        Compound, TyreLife, CorrectedLapTime.
    """
    import numpy as np

    from workbench.twins.tyre_model import features

    hv = _hv()
    layers = []
    for compound, m in report["compounds"].items():
        rows = clean[clean.Compound == compound]
        if rows.empty:
            continue
        coef = np.array([m["k1_s"]] + ([m["k2_s"]] if "k2_s" in m else []))
        age = rows.TyreLife.to_numpy(dtype=float)
        deg = features(m["model"], age) @ coef
        level = (rows.CorrectedLapTime - deg).groupby([rows.Driver, rows.Stint]).transform("mean")
        rel = rows.CorrectedLapTime.to_numpy(dtype=float) - level.to_numpy(dtype=float)
        grid = np.arange(0, int(m["max_age_laps"]) + 1, dtype=float)
        layers.append(hv.Scatter((age, rel), "tyre age (laps)", "lap time vs stint level (s)",
                                 label=f"{compound} clean laps").opts(alpha=0.35, size=4))
        layers.append(hv.Curve((grid, features(m["model"], grid) @ coef), "tyre age (laps)",
                               "lap time vs stint level (s)", label=f"{compound} fit ({m['model']})")
                      .opts(line_width=3))
    return hv.Overlay(layers).opts(
        hv.opts.Overlay(width=900, height=500, legend_position="right", show_grid=True,
                        title="tyre degradation per compound: fuel-corrected clean laps, each stint's level "
                              "removed, and the fitted wear curve"))


def loro_plot(report: dict[str, Any]) -> Any:
    """Leave-one-race-out next-5-lap MAE per race, model vs naive (out of sample)."""
    hv = _hv()
    data = [(r["race"], who, r[key]) for r in report["races"]
            for who, key in (("model", "model_mae_s"), ("naive (repeat last clean lap)", "naive_mae_s"))]
    return hv.Bars(data, ["race", "predictor"], "MAE (s)").opts(
        width=900, height=450, tools=["hover"], multi_level=True, xrotation=45,
        title="leave-one-race-out backtest, out of sample: lap-time MAE per race (each fitted on the others)")


def write_plot(kind: str, result: Any, path: Path, **extra: Any) -> Path:
    """Build the ``kind`` plot (predict, sweep, simulate, degradation, loro) of ``result`` and save it."""
    builders = {"predict": predict_plot, "sweep": sweep_plot, "simulate": simulate_plot,
                "degradation": degradation_plot, "loro": loro_plot}
    if kind not in builders:
        raise ValueError(f"plot: {kind!r} is not one of {', '.join(builders)}")
    titles = {"predict": "racetwin predict", "sweep": "racetwin predict --sweep", "simulate": "racetwin simulate",
              "degradation": "racetwin calibrate", "loro": "racetwin calibrate (leave-one-race-out)"}
    return save_html(builders[kind](result, **extra), path, titles[kind])
