"""The built-in template explainer, and the sanitizer for telemetry text quoted in prompts.

The LLM only *words* a recommendation's reasoning: the decision, the numbers and the
priority are fixed before it is asked (`workbench.llm.request`), and its answer is
accepted only if it passes `workbench.llm.checks`; otherwise the built-in wording
below stays and the failure is counted by reason.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.llm.checks import ExplanationRejected, check_explanations

__all__ = ["BuiltinExplainer", "check_explanations", "sanitize_text", "ExplanationRejected"]


def sanitize_text(value: Any, max_chars: int = 40) -> str:
    """Text from telemetry (names, free text) made safe to quote in a prompt.

    Keeps letters, digits, spaces and ``.-'&``; drops newlines, quotes, braces and
    everything else; collapses spaces; cuts to ``max_chars``.
    """
    text = re.sub(r"[^A-Za-z0-9 .'&-]", " ", str(value))
    return re.sub(r"\s+", " ", text).strip()[:max_chars]


class BuiltinExplainer:
    """Clear English from templates over the numbers: the product is complete without an LLM."""

    name = "built-in"

    def explain(self, recommendations: list) -> None:
        for rec in recommendations:
            n = rec.numbers
            prob = f"{n['success_probability']:.0%}"
            if rec.title.startswith("Alternative"):
                rec.description = (f"{n['strategy']}: expected finish P{n['expected_final_position']:.2f}, "
                                   f"success probability {prob}, race time {n['race_time_s']:.1f} s.")
                rec.reasoning = (f"Ranked below the recommended plan by the Monte Carlo results at lap {n['lap']}; "
                                 f"kept as a fallback if the race changes.")
            else:
                where = f" from P{n['position']}" if n.get("position") else ""
                rec.description = (f"{n['strategy']}{where}: expected finish P{n['expected_final_position']:.2f}, "
                                   f"success probability {prob}.")
                if n.get("alternative"):
                    rec.reasoning = (f"At lap {n['lap']} this plan beats the next best ('{n['alternative']}') by "
                                     f"{n['gain_positions_vs_alternative']:.2f} positions and "
                                     f"{n['gain_seconds_vs_alternative']:.1f} s of expected race time.")
                else:
                    rec.reasoning = f"At lap {n['lap']} this is the only candidate evaluated."
                if n.get("track_status") in ("SC", "VSC"):
                    rec.reasoning += f" The {n['track_status']} makes a stop cheaper now."
            rec.explainer = self.name
