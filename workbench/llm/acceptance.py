"""How the explainer is doing: acceptance over a window of recent calls, reasons, latency percentiles.

Every LLM call ends in one verdict: accepted, rejected by a check (reason from
`workbench.llm.checks.REASONS`) or failed (reason from `workbench.llm.client.LLMError`,
e.g. ``unreachable``, ``timeout``). `AcceptanceWindow` keeps the last ``size`` verdicts;
its state is ``degraded`` when at least ``min_calls`` verdicts are in and fewer than
``threshold`` of them were accepted, or when the last call failed outright.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

import numpy as np

__all__ = ["Verdict", "AcceptanceWindow", "WINDOW_CALLS", "DEGRADED_BELOW", "MIN_CALLS"]

WINDOW_CALLS = 50
DEGRADED_BELOW = 0.25
MIN_CALLS = 5


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One LLM call's outcome: accepted, or the reason it was not; its timings when it got that far."""

    accepted: bool
    reason: str | None = None
    failed: bool = False  # the call itself failed (no answer to check)
    ttft_s: float | None = None
    total_s: float | None = None


def _percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"p50": None, "p90": None, "n": 0}
    return {"p50": round(float(np.percentile(values, 50)), 3), "p90": round(float(np.percentile(values, 90)), 3),
            "n": len(values)}


class AcceptanceWindow:
    """The last ``size`` verdicts and what health reports from them.

    Parameters
    ----------
    size : int
        Verdicts kept (older ones drop out).
    threshold : float
        Acceptance rate below which the explainer is ``degraded``.
    min_calls : int
        Verdicts needed before the rate can make it ``degraded``.
    """

    def __init__(self, size: int = WINDOW_CALLS, threshold: float = DEGRADED_BELOW, min_calls: int = MIN_CALLS):
        if size < 1:
            raise ValueError(f"size: {size} is below minimum 1")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold: {threshold} is not between 0 and 1")
        if not 1 <= min_calls <= size:
            raise ValueError(f"min_calls: {min_calls} is not between 1 and size ({size})")
        self.size, self.threshold, self.min_calls = size, threshold, min_calls
        self.verdicts: collections.deque[Verdict] = collections.deque(maxlen=size)

    def add(self, verdict: Verdict) -> None:
        self.verdicts.append(verdict)

    @property
    def rate(self) -> float | None:
        """Accepted share of the window, or None before the first verdict."""
        if not self.verdicts:
            return None
        return sum(v.accepted for v in self.verdicts) / len(self.verdicts)

    @property
    def state(self) -> str:
        """``unknown`` (no verdict yet), ``ok`` or ``degraded``."""
        if not self.verdicts:
            return "unknown"
        if self.verdicts[-1].failed:
            return "degraded"
        if len(self.verdicts) >= self.min_calls and self.rate < self.threshold:
            return "degraded"
        return "ok"

    def report(self) -> dict[str, Any]:
        """Acceptance (rate, counts, reasons) and latency percentiles over the window."""
        reasons = collections.Counter(v.reason for v in self.verdicts if not v.accepted)
        rate = self.rate
        return {
            "acceptance": {"window_calls": len(self.verdicts), "window_size": self.size,
                           "accepted": sum(v.accepted for v in self.verdicts),
                           "rate": None if rate is None else round(rate, 3), "degraded_below": self.threshold,
                           "min_calls": self.min_calls, "reasons": dict(reasons)},
            "latency_s": {"first_token": _percentiles([v.ttft_s for v in self.verdicts if v.ttft_s is not None]),
                          "total": _percentiles([v.total_s for v in self.verdicts if v.total_s is not None])},
        }
