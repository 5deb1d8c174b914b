"""Clean laps gathered as a race unfolds, per compound, with the degradation posterior refit on demand."""

from __future__ import annotations

from workbench.twins.tyre_model import (
    DegradationFit,
    DegradationPrior,
    best,
    fit_degradation,
    prior_from_compound,
)

__all__ = ["OnlineTyreModel"]


class OnlineTyreModel:
    """Clean, fuel-corrected laps by compound; `fits` refits a compound only after it got new laps.

    Parameters
    ----------
    priors : dict, optional
        Compound name -> `DegradationPrior` (e.g. from the race definition); a weak generic
        prior for compounds not given.
    """

    def __init__(self, priors: dict[str, DegradationPrior] | None = None):
        self.priors: dict[str, DegradationPrior] = dict(priors or {})
        self._ages: dict[str, list[float]] = {}
        self._times: dict[str, list[float]] = {}
        self._keys: dict[str, list[str]] = {}
        self._fits: dict[str, dict[str, DegradationFit]] = {}

    def add(self, compound: str, stint_key: str, tyre_age_laps: float, corrected_lap_time_s: float) -> None:
        """Record one clean lap (lap time minus the fuel mass effect) of a stint."""
        self._ages.setdefault(compound, []).append(float(tyre_age_laps))
        self._times.setdefault(compound, []).append(float(corrected_lap_time_s))
        self._keys.setdefault(compound, []).append(stint_key)
        self._fits.pop(compound, None)

    def n_laps(self, compound: str) -> int:
        return len(self._ages.get(compound, ()))

    def prior(self, compound: str) -> DegradationPrior:
        return self.priors.get(compound) or prior_from_compound(source="generic")

    def set_prior(self, compound: str, prior: DegradationPrior) -> None:
        self.priors[compound] = prior
        self._fits.pop(compound, None)

    def fits(self, compound: str) -> dict[str, DegradationFit]:
        """Posterior of every family on this compound (the prior alone when it has no laps)."""
        fits = self._fits.get(compound)
        if fits is None:
            fits = fit_degradation(self._ages.get(compound, []), self._times.get(compound, []),
                                   self._keys.get(compound, []), self.prior(compound))
            self._fits[compound] = fits
        return fits

    def best(self, compound: str) -> DegradationFit:
        """The family with the highest evidence on this compound."""
        return best(self.fits(compound))
