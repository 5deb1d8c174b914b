"""Can the prediction beat the naive order "on most races" at 50 and 75 %? An upper bound and where the swaps fail.

    PYTHONPATH=. python tests/benchmarks/predict_reachability.py DIR [DIR ...] [--runs 2000] [--seed 0]

Every ``*-laps.csv`` of each folder (e.g. ``../shared/data/real-races`` and a folder of another season's tables in
the same shape) is predicted at 25/50/75 % of its distance (`predict.predict_from_laps`, out of sample as
``racetwin predict --sweep``). The distance is `predict.race_distance`'s; a whole-race table whose distance it
cannot tell (no chequered flag by its rule, a race after the history) takes its last lap, and the script says so.
Printed (docs/predict.md, "Is 'better on most races at 50 and 75 %' reachable?"):

1. **Upper bound.** For each folder and all together, per fraction: over 64 decision rules (`swap_confidence` x
   `owed_stop_confidence`, each 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95 or never), each re-deciding the order from the
   same simulated races (`Prediction.reordered`) and scored on the races it is chosen on (in sample), the most
   races on which the model beats the naive order, and that rule's mean MAE against the naive one.
2. **Pairs.** Cars within three places at K (of the cars running at K), neither retiring after K: how many pairs the
   simulation gives P(swap) >= 0.5 and how many of them swapped; at P >= 0.8 (50 and 75 %), by the stops still to
   come (neither car, both, only the car ahead; owed mandatory stops apart).
3. **Closing rate.** Adjacent pairs with no stop to come and none in the last 5 laps before K: the gap at K
   projected to the flag with the last 5 laps' closing rate; how often a projected catch became a pass.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.strategy.predict import (
    SWEEP_FRACTIONS,
    file_race_name,
    identify_race,
    predict_from_laps,
    race_distance,
    score,
)
from workbench.strategy.predict_fit import seconds_elapsed

RULE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)  # 1.0: never swap
NEAR_PLACES = 3


def predictions(folder: Path, runs: int, seed: int) -> list[dict]:
    """Every race of ``folder`` at each sweep fraction: the prediction and what the analysis needs."""
    out = []
    for path in sorted(folder.glob("*-laps.csv")):
        laps = pd.read_csv(path)
        name = file_race_name(path)
        try:
            n = race_distance(laps, entry=identify_race(None, None, name)[0]).laps
        except ValueError as exc:
            n = int(pd.to_numeric(laps.LapNumber).max())
            print(f"note: {path.name}: {exc}; taken as a whole race of {n} laps (its last lap)", file=sys.stderr)
        elapsed = seconds_elapsed(laps)  # session time at each lap's end, once per race (closing rate)
        for fraction in SWEEP_FRACTIONS:
            k = max(1, min(n - 1, int(round(fraction * n))))
            pred = predict_from_laps(laps, k, runs=runs, seed=seed, race_laps=n, file_race=name)
            out.append({"group": folder.name, "race": path.name, "fraction": fraction, "k": k, "n": n,
                        "laps": laps, "elapsed": elapsed, "pred": pred})
    return out


def best_rules(items: list[dict]) -> tuple[int, int, float, float, float, float]:
    """(races better, races worse, swap, owed, mean MAE, naive MAE) of the rule with the most races better."""
    best = None
    for swap, owed in itertools.product(RULE_THRESHOLDS, RULE_THRESHOLDS):
        better = worse = 0
        mae = naive = 0.0
        for it in items:
            pred = it["pred"]
            order = pred.reordered(min(swap, 0.9999), min(owed, 0.9999))
            s = score(order, pred.pairwise["position_at_k"], pred.actual["position"])
            better += s["mae_positions"] < s["naive_mae_positions"] - 1e-9
            worse += s["mae_positions"] > s["naive_mae_positions"] + 1e-9
            mae, naive = mae + s["mae_positions"], naive + s["naive_mae_positions"]
        row = (better, worse, swap, owed, mae / len(items), naive / len(items))
        if best is None or (row[0], -row[1]) > (best[0], -best[1]):
            best = row
    return best


def pairs(items: list[dict]) -> pd.DataFrame:
    """One row per pair of cars within `NEAR_PLACES` places at K (among the cars running) that both run to the end."""
    rows = []
    for it in items:
        pred = it["pred"]
        pw, actual = pred.pairwise, pred.actual
        drivers, p_ahead, pos = list(pw["drivers"]), np.asarray(pw["p_ahead"]), pw["position_at_k"]
        car = {r["driver"]: r for r in pred.drivers}
        order = [d for d in sorted(drivers, key=pos.get) if not car[d]["retired_at_k"]]
        for a, i in enumerate(order):
            for j in order[a + 1:a + 1 + NEAR_PLACES]:
                if i in actual["retired"] or j in actual["retired"]:
                    continue  # a retirement after K decides the pair; no state at K shows it
                rows.append({"group": it["group"], "race": it["race"], "fraction": it["fraction"], "ahead": i,
                             "behind": j, "adjacent": j == order[a + 1],
                             "p_swap": float(p_ahead[drivers.index(j), drivers.index(i)]),
                             "stops_ahead": car[i]["predicted_remaining_stops"] >= 0.5,
                             "stops_behind": car[j]["predicted_remaining_stops"] >= 0.5,
                             "owed": (i, j) in pw["owed_stop"],
                             "swapped": actual["position"][j] < actual["position"][i],
                             "k": it["k"], "n": it["n"], "laps": it["laps"], "elapsed": it["elapsed"]})
    return pd.DataFrame(rows)


def closing_rate(table: pd.DataFrame) -> tuple[int, int]:
    """Adjacent pairs at 75 % with no stop to come nor in the last 5 laps: (projected catches, passes among them)."""
    catches = passes = 0
    sel = table[(table.fraction == 0.75) & table.adjacent & ~table.stops_ahead & ~table.stops_behind]
    for r in sel.itertuples():
        laps, k, elapsed = r.laps, r.k, r.elapsed
        recent = laps[(laps.LapNumber > k - 5) & (laps.LapNumber <= k)]
        if any(recent[recent.Driver == d].Stint.nunique() > 1 for d in (r.ahead, r.behind)):
            continue
        try:
            gap_k = elapsed[(r.behind, k)] - elapsed[(r.ahead, k)]
            gap_5 = elapsed[(r.behind, k - 5)] - elapsed[(r.ahead, k - 5)]
        except KeyError:
            continue
        if gap_k - (gap_5 - gap_k) / 5 * (r.n - k) < 0:
            catches, passes = catches + 1, passes + int(r.swapped)
    return catches, passes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", metavar="DIR")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    items = [it for folder in args.folders for it in predictions(folder, args.runs, args.seed)]
    groups = [*dict.fromkeys(it["group"] for it in items), "all"]
    print(f"1. Upper bound, in sample: the rule (of 64) with the most races better ({args.runs} races, seed "
          f"{args.seed})")
    for fraction in (0.5, 0.75):
        for g in groups:
            sel = [it for it in items if it["fraction"] == fraction and g in ("all", it["group"])]
            better, worse, swap, owed, mae, naive = best_rules(sel)
            races = len(sel)
            print(f"   {100 * fraction:.0f} % {g}: better on {better} of {races}, worse on {worse} (swap {swap:g}, "
                  f"owed {owed:g}; 1 = never): MAE {mae:.3f} vs naive {naive:.3f}")
    table = pairs(items)
    print(f"2. Pairs within {NEAR_PLACES} places at K, both running to the end")
    for fraction in SWEEP_FRACTIONS:
        t = table[table.fraction == fraction]
        hi = t[t.p_swap >= 0.5]
        print(f"   {100 * fraction:.0f} %: {len(t)} pairs, {int(t.swapped.sum())} swapped; P(swap) >= 0.5: "
              f"{len(hi)} pairs, {int(hi.swapped.sum())} swapped")
    late = table[(table.fraction >= 0.5) & (table.p_swap >= 0.8)]
    kinds = {"neither has a stop to come": late[~late.stops_ahead & ~late.stops_behind],
             "both have one to come": late[late.stops_ahead & late.stops_behind],
             "only the car ahead, mandatory (owed)": late[late.stops_ahead & ~late.stops_behind & late.owed],
             "only the car ahead, not owed": late[late.stops_ahead & ~late.stops_behind & ~late.owed]}
    print("   P(swap) >= 0.8 at 50 and 75 %, swapped / pairs:")
    for kind, t in kinds.items():
        cells = ", ".join(f"{g} {int(t[t.group == g].swapped.sum())} / {int((t.group == g).sum())}"
                          for g in groups[:-1])
        print(f"     {kind}: {cells}")
    catches, passes = closing_rate(table)
    print(f"3. Closing rate at 75 %: {catches} projected catches, {passes} passes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
