"""Tyre degradation fitted from clean laps: Bayesian linear regression, family chosen by evidence.

Model (Heilmeier et al. 2018, "A Race Simulation for Strategy Decisions in Circuit
Motorsports"): the fuel-corrected lap time of a clean lap on a stint is

    y = intercept[stint] + deg(tyre_age) + noise,   noise ~ N(0, sigma^2)

with ``deg`` one of three families (features ``phi(age)``, coefficients ``k``):

- ``linear``:       k1 * age
- ``quadratic``:    k1 * age + k2 * age^2
- ``logarithmic``:  k1 * ln(1 + age)

One intercept per stint absorbs the driver, the car and the compound offset, so only
the *shape* of the wear is pooled across cars. The intercepts get a flat prior and are
integrated out exactly by centring each stint (the within-stint projection); the
coefficients get a conjugate normal-inverse-gamma prior ``k | sigma^2 ~ N(m0, sigma^2 V0)``,
``sigma^2 ~ IG(a0, b0)``. The posterior and the marginal likelihood (evidence) are closed
form, so a refit is a few 2x2 solves, the uncertainty is exact under the model, and
the family is chosen by the highest evidence, which penalises the extra quadratic
term unless the laps ask for it. Priors come from the race definition (`prior_from_compound`)
or from another fit, e.g. the whole field on the same compound (`prior_from_fit`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["FAMILIES", "DegradationPrior", "DegradationFit", "features", "fit_degradation", "prior_from_compound",
           "prior_from_fit", "normal_cdf", "PRIOR_NOISE_S", "CLIFF_RATE_S_PER_LAP"]

FAMILIES = ("linear", "quadratic", "logarithmic")
PRIOR_NOISE_S = 0.6  # prior guess of the clean-lap noise, s (Heilmeier et al. 2020: 0.46-0.86 s)
PRIOR_NOISE_WEIGHT_LAPS = 4.0  # the noise prior counts as this many laps
CLIFF_RATE_S_PER_LAP = 0.25  # wear rate at which a set is "falling off a cliff", s lost per extra lap
_PRIOR_K1_SD = 0.10  # prior sd of the s/lap slope, s/lap: a rate of 0 to 0.3 s/lap is plausible
_PRIOR_K2_SD = 0.005  # prior sd of the quadratic term, s/lap^2
_PRIOR_LOG_SD = 0.6  # prior sd of the log coefficient, s per ln(lap)
_REFERENCE_STINT_LAPS = 20  # age at which families are matched when converting a prior


def features(family: str, tyre_age_laps) -> np.ndarray:
    """Design columns ``phi(age)`` of a family, shape ``(n, p)``.

    Raises
    ------
    ValueError
        If ``family`` is not one of `FAMILIES`.
    """
    age = np.asarray(tyre_age_laps, dtype=float).reshape(-1)
    if family == "linear":
        return age[:, None]
    if family == "quadratic":
        return np.column_stack([age, age * age])
    if family == "logarithmic":
        return np.log1p(age)[:, None]
    raise ValueError(f"family: {family!r} is not one of {', '.join(FAMILIES)}")


def _rate_features(family: str, tyre_age_laps: float) -> np.ndarray:
    """d phi / d age: the wear rate is ``rate_features @ k``, s per extra lap."""
    if family == "linear":
        return np.array([1.0])
    if family == "quadratic":
        return np.array([1.0, 2.0 * tyre_age_laps])
    return np.array([1.0 / (1.0 + tyre_age_laps)])


def normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclasses.dataclass(frozen=True)
class DegradationPrior:
    """Normal-inverse-gamma prior per family: mean and covariance scale of ``k``, noise prior.

    Attributes
    ----------
    mean : dict
        Family -> prior mean of the coefficients (s/lap, s/lap^2 or s per ln lap).
    cov_s2 : dict
        Family -> prior covariance of the coefficients, in s^2 units of the coefficients
        (divided by ``noise_s**2`` to get ``V0``).
    noise_s : float
        Prior guess of the clean-lap noise standard deviation, s.
    noise_weight_laps : float
        How many laps the noise prior is worth (``2 * a0``).
    source : str
        Where the prior comes from, for reports.
    """

    mean: dict[str, np.ndarray]
    cov_s2: dict[str, np.ndarray]
    noise_s: float = PRIOR_NOISE_S
    noise_weight_laps: float = PRIOR_NOISE_WEIGHT_LAPS
    source: str = "generic"


def prior_from_compound(model: str = "linear", k1_s: float = 0.05, k2_s: float = 0.0,
                        source: str = "generic") -> DegradationPrior:
    """A weak prior centred on one compound model (e.g. a race definition's `CompoundModel`).

    The stated family's coefficients are the prior mean of that family; the other
    families are centred on the same time lost at `_REFERENCE_STINT_LAPS`.
    """
    if model not in FAMILIES:
        raise ValueError(f"model: {model!r} is not one of {', '.join(FAMILIES)}")
    ref = float(_REFERENCE_STINT_LAPS)
    loss = float((features(model, ref) @ np.array([k1_s, k2_s][:features(model, ref).shape[1]]))[0])
    mean = {"linear": np.array([loss / ref]), "quadratic": np.array([loss / ref, 0.0]),
            "logarithmic": np.array([loss / math.log1p(ref)])}
    if model == "quadratic":
        mean["quadratic"] = np.array([k1_s, k2_s])
    cov = {"linear": np.diag([_PRIOR_K1_SD**2]), "quadratic": np.diag([_PRIOR_K1_SD**2, _PRIOR_K2_SD**2]),
           "logarithmic": np.diag([_PRIOR_LOG_SD**2])}
    return DegradationPrior(mean=mean, cov_s2=cov, source=source)


def prior_from_fit(fits: dict[str, DegradationFit], inflate: float = 4.0, source: str = "field") -> DegradationPrior:
    """Turn the posteriors of another fit (all families) into a prior, covariance inflated.

    ``inflate`` widens the covariance so one car's own laps can move away from the
    field's wear when they say so (a car is not the average car).
    """
    if not inflate >= 1.0:
        raise ValueError(f"inflate: {inflate} is below minimum 1")
    any_fit = next(iter(fits.values()))
    return DegradationPrior(mean={f: fit.coef for f, fit in fits.items()},
                            cov_s2={f: fit.cov * inflate for f, fit in fits.items()},
                            noise_s=any_fit.noise_s, noise_weight_laps=PRIOR_NOISE_WEIGHT_LAPS, source=source)


@dataclasses.dataclass(frozen=True)
class DegradationFit:
    """Posterior of one family: coefficients, their covariance, noise, and the evidence.

    ``coef`` and ``cov`` are the posterior mean and covariance of ``k`` (the marginal
    Student-t is summarised by its mean and covariance); ``noise_s`` is the posterior
    mean of sigma.
    """

    family: str
    coef: np.ndarray
    cov: np.ndarray
    noise_s: float
    log_evidence: float
    n_laps: int
    n_stints: int
    prior_source: str

    def degradation_s(self, tyre_age_laps) -> np.ndarray:
        """Expected time lost to wear at ``tyre_age_laps`` vs a new set, s."""
        return features(self.family, tyre_age_laps) @ self.coef

    def degradation_sd_s(self, tyre_age_laps) -> np.ndarray:
        """Posterior standard deviation of `degradation_s`, s (parameter uncertainty only)."""
        phi = features(self.family, tyre_age_laps)
        return np.sqrt(np.einsum("ij,jk,ik->i", phi, self.cov, phi))

    def rate_s_per_lap(self, tyre_age_laps: float) -> tuple[float, float]:
        """Wear rate at an age: mean and sd of the time lost per extra lap, s/lap."""
        g = _rate_features(self.family, float(tyre_age_laps))
        return float(g @ self.coef), float(math.sqrt(max(0.0, g @ self.cov @ g)))

    def cliff_risk(self, tyre_age_laps: float, cliff_rate_s_per_lap: float = CLIFF_RATE_S_PER_LAP) -> float:
        """P(the wear rate at this age exceeds ``cliff_rate_s_per_lap``) under the posterior."""
        mean, sd = self.rate_s_per_lap(tyre_age_laps)
        if sd == 0.0:
            return float(mean > cliff_rate_s_per_lap)
        return 1.0 - normal_cdf((cliff_rate_s_per_lap - mean) / sd)

    def to_dict(self) -> dict[str, Any]:
        names = ("k1_s", "k2_s")
        return {"model": self.family, **{n: round(float(c), 5) for n, c in zip(names, self.coef)},
                **{f"{n}_sd": round(float(math.sqrt(self.cov[i, i])), 5) for i, n in enumerate(names[:len(self.coef)])},
                "noise_s": round(float(self.noise_s), 4), "log_evidence": round(float(self.log_evidence), 3),
                "n_laps": self.n_laps, "n_stints": self.n_stints, "prior": self.prior_source}


def _centre(inv: np.ndarray, counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Subtract each group's mean (rows of ``values``), the within-stint projection."""
    out = np.empty_like(values)
    for j in range(values.shape[1]):
        out[:, j] = values[:, j] - (np.bincount(inv, weights=values[:, j], minlength=counts.size) / counts)[inv]
    return out


def _fit_family(family: str, age: np.ndarray, yc: np.ndarray, inv: np.ndarray, counts: np.ndarray,
                prior: DegradationPrior) -> DegradationFit:
    n_stints = int(counts.size)
    x = _centre(inv, counts, features(family, age))
    n_eff = len(yc) - n_stints  # each stint's intercept uses one degree of freedom
    s0 = prior.noise_s**2
    m0 = prior.mean[family]
    v0_inv = np.linalg.inv(prior.cov_s2[family] / s0)
    a0 = prior.noise_weight_laps / 2.0
    b0 = a0 * s0
    vn_inv = v0_inv + x.T @ x
    vn = np.linalg.inv(vn_inv)
    mn = vn @ (v0_inv @ m0 + x.T @ yc)
    an = a0 + n_eff / 2.0
    bn = b0 + 0.5 * float(yc @ yc + m0 @ v0_inv @ m0 - mn @ vn_inv @ mn)
    bn = max(bn, 1e-12)
    _, logdet_vn = np.linalg.slogdet(vn)
    _, logdet_v0_inv = np.linalg.slogdet(v0_inv)
    log_ev = (-0.5 * n_eff * math.log(2 * math.pi) + 0.5 * (logdet_vn + logdet_v0_inv)
              + a0 * math.log(b0) - an * math.log(bn) + math.lgamma(an) - math.lgamma(a0))
    sigma2 = bn / (an - 1.0) if an > 1.0 else bn / an
    return DegradationFit(family=family, coef=mn, cov=vn * sigma2, noise_s=math.sqrt(sigma2),
                          log_evidence=log_ev, n_laps=int(len(yc)), n_stints=n_stints, prior_source=prior.source)


def fit_degradation(tyre_age_laps: Sequence[float], corrected_lap_time_s: Sequence[float], stint_keys: Sequence[Any],
                    prior: DegradationPrior, families: Sequence[str] = FAMILIES) -> dict[str, DegradationFit]:
    """Posterior of every family on one compound's clean, fuel-corrected laps.

    Parameters
    ----------
    tyre_age_laps, corrected_lap_time_s, stint_keys
        One entry per clean lap: tyre age (FastF1 TyreLife), the lap time minus the fuel
        mass effect, and a key naming the stint (e.g. ``"VER/2"``).
    prior
        Prior of the coefficients and the noise.

    Returns
    -------
    dict
        Family -> `DegradationFit`; pick the best with ``max(fits.values(), key=lambda f: f.log_evidence)``
        (or use `best`). With no laps the posterior is the prior.

    Raises
    ------
    ValueError
        If the inputs differ in length, or hold a non-finite value.
    """
    age = np.asarray(tyre_age_laps, dtype=float)
    y = np.asarray(corrected_lap_time_s, dtype=float)
    groups = np.asarray([str(k) for k in stint_keys])
    if not (age.shape == y.shape == groups.shape):
        raise ValueError(f"lengths: tyre_age_laps {age.size}, corrected_lap_time_s {y.size}, stint_keys "
                         f"{groups.size} are not equal")
    for name, arr in (("tyre_age_laps", age), ("corrected_lap_time_s", y)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(f"{name}[{bad[0]}]: {arr[bad[0]]} is not a finite number")
    _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    yc = _centre(inv, counts, y[:, None])[:, 0]
    return {f: _fit_family(f, age, yc, inv, counts, prior) for f in families}


def best(fits: dict[str, DegradationFit]) -> DegradationFit:
    """The family with the highest evidence."""
    return max(fits.values(), key=lambda f: f.log_evidence)


__all__.append("best")
