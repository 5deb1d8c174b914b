"""TwinContext: what the twins know before the race; from a race definition, or refused when out of bounds."""

import pytest

from workbench.twins.context import TwinContext
from workbench.twins.tyre_model import prior_from_compound


def test_from_the_bundled_race(race):
    ctx = TwinContext.from_race(race)
    assert ctx.total_laps == 57 and ctx.expected_stops == 2.0
    assert ctx.pit_loss_green_s == pytest.approx(race.track.pit_loss_green_s + race.track.pit_standstill_median_s)
    assert ctx.pit_loss_s("SC") < ctx.pit_loss_s("VSC") < ctx.pit_loss_s("GREEN") == ctx.pit_loss_s("YELLOW")
    assert set(ctx.priors) == {"SOFT", "MEDIUM", "HARD"} and ctx.offsets_s["HARD"] == race.compounds[
        next(c for c in race.compounds if c.value == "HARD")].offset_s


@pytest.mark.parametrize("kw,message", [
    ({"total_laps": 0}, r"total_laps: 0 is outside \[1, 200\]"),
    ({"pit_loss_green_s": -1.0}, r"pit_loss_green_s: -1.0 is outside \[0, 120\]"),
    ({"mass_effect_s_per_kg": 0.5}, r"mass_effect_s_per_kg: 0.5 is outside \[0, 0.2\]"),
    ({"expected_stops": 6}, r"expected_stops: 6 is outside \[0, 5\]"),
])
def test_out_of_bounds_is_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        TwinContext(**kw)


def test_unknown_degradation_model_is_refused():
    with pytest.raises(ValueError, match="model: 'cubic' is not one of linear, quadratic, logarithmic"):
        prior_from_compound("cubic")
