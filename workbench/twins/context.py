"""What the twins' models know about the race before it starts: laps, pit loss, fuel, compounds, priors."""

from __future__ import annotations

import dataclasses

from workbench.twins.tyre_model import DegradationPrior, prior_from_compound

__all__ = ["TwinContext"]


@dataclasses.dataclass(frozen=True)
class TwinContext:
    """Race facts and priors for `CarTwin` / `FieldTwin`; `from_race` reads a race definition.

    The defaults are generic (no race known): 100 kg over the race, 0.03 s/kg, a 22 s
    green pit loss, the same weak degradation prior for every compound, no offsets.
    """

    total_laps: int | None = None
    pit_loss_green_s: float = 22.0
    pit_loss_vsc_s: float = 13.0
    pit_loss_sc_s: float = 10.0
    fuel_start_kg: float = 100.0
    fuel_burn_kg_per_lap: float = 1.75
    mass_effect_s_per_kg: float = 0.03
    offsets_s: dict[str, float] = dataclasses.field(default_factory=dict)
    priors: dict[str, DegradationPrior] = dataclasses.field(default_factory=dict)
    expected_stops: float = 2.0
    source: str = "generic"

    def __post_init__(self):
        if self.total_laps is not None and not 1 <= self.total_laps <= 200:
            raise ValueError(f"total_laps: {self.total_laps} is outside [1, 200]")
        for name, hi in (("pit_loss_green_s", 120), ("pit_loss_vsc_s", 120), ("pit_loss_sc_s", 120),
                         ("fuel_start_kg", 150), ("fuel_burn_kg_per_lap", 10), ("mass_effect_s_per_kg", 0.2),
                         ("expected_stops", 5)):
            value = getattr(self, name)
            if not 0 <= value <= hi:
                raise ValueError(f"{name}: {value} is outside [0, {hi}]")

    @classmethod
    def from_race(cls, race) -> TwinContext:
        """Context from a `RaceDefinition`: its track, fuel model, compound offsets and models as priors."""
        t, f = race.track, race.fuel
        plans = sorted(len(c.strategy) - 1 for c in race.cars)
        return cls(total_laps=t.laps, pit_loss_green_s=t.pit_loss_green_s + t.pit_standstill_median_s,
                   pit_loss_vsc_s=t.pit_loss_vsc_s + t.pit_standstill_median_s,
                   pit_loss_sc_s=t.pit_loss_sc_s + t.pit_standstill_median_s,
                   fuel_start_kg=f.start_kg, fuel_burn_kg_per_lap=f.burn_kg_per_lap,
                   mass_effect_s_per_kg=f.mass_effect_s_per_kg,
                   offsets_s={c.value: m.offset_s for c, m in race.compounds.items()},
                   priors={c.value: prior_from_compound(m.model, m.k1_s, m.k2_s, source="race definition")
                           for c, m in race.compounds.items()},
                   expected_stops=float(plans[len(plans) // 2]), source=race.name)

    def pit_loss_s(self, track_status: str) -> float:
        """Time a stop costs under a track status (GREEN / VSC / SC; others as green), s."""
        return {"VSC": self.pit_loss_vsc_s, "SC": self.pit_loss_sc_s}.get(track_status, self.pit_loss_green_s)
