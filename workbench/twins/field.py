"""FieldTwin: every car of the race, their order and the gaps between them."""

from __future__ import annotations

from typing import Any

import param

from workbench.telemetry.records import CarSample, LapRecord, Record
from workbench.twins.car import CarTwin

__all__ = ["FieldTwin"]


class FieldTwin(param.Parameterized):
    """Digital twin of the whole field: one `CarTwin` per driver plus the running order.

    ``update_state(record)`` routes a car record to its driver's twin (creating it on
    first sight) and refreshes the order and each car's gap to the car behind.
    """

    cars = param.Dict(default={}, doc="CarTwin per driver abbreviation.")
    order = param.List(default=[], item_type=str, doc="Drivers by position, leader first.")
    leader_lap = param.Integer(default=0, bounds=(0, None), doc="Laps completed by the leader.")

    def car(self, driver: str) -> CarTwin:
        """The twin of ``driver``, created empty if it has not been seen yet."""
        twin = self.cars.get(driver)
        if twin is None:
            twin = CarTwin(driver=driver, name=f"CarTwin {driver}")
            self.cars = {**self.cars, driver: twin}
        return twin

    def update_state(self, sample: Record) -> None:
        """Apply a `CarSample` or `LapRecord` of any driver."""
        if not isinstance(sample, (CarSample, LapRecord)):
            raise ValueError(f"type: {sample.type!r} is not a car record (car_sample or lap)")
        twin = self.car(sample.driver)
        twin.update_state(sample)
        if isinstance(sample, LapRecord):
            self._refresh_order()

    def retire(self, driver: str) -> None:
        self.car(driver).retired = True
        self._refresh_order()

    def _refresh_order(self) -> None:
        def key(t: CarTwin):
            return (t.retired, -t.lap, t.position or 99)
        ranked = sorted(self.cars.values(), key=key)
        for ahead, behind in zip(ranked, ranked[1:]):
            if behind.lap == ahead.lap and not behind.retired and behind.gap_ahead_s is not None:
                ahead.gap_behind_s = behind.gap_ahead_s
            else:
                ahead.gap_behind_s = None
        if ranked:
            ranked[-1].gap_behind_s = None
        self.param.update(order=[t.driver for t in ranked], leader_lap=max(t.lap for t in ranked))

    def standings(self) -> list[dict[str, Any]]:
        """The timing tower: one row per car in running order."""
        rows = []
        for rank, driver in enumerate(self.order, start=1):
            t = self.cars[driver]
            rows.append({"rank": rank, "driver": driver, "team": t.team, "position": t.position, "lap": t.lap,
                         "gap_to_leader_s": t.gap_to_leader_s, "interval_s": t.gap_ahead_s,
                         "last_lap_time_s": t.last_lap_time_s, "best_lap_time_s": t.best_lap_time_s,
                         "compound": t.compound.value if t.compound else None, "tyre_age_laps": t.tyre_age_laps,
                         "pit_stops": t.pit_stops, "in_pit": t.in_pit, "retired": t.retired})
        return rows

    def state(self) -> dict[str, Any]:
        return {"leader_lap": self.leader_lap, "order": list(self.order), "cars": self.standings()}
