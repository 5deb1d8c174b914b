"""LLM explanations: an OpenAI-compatible client, the built-in explainer, the checks of a wording.

`AIStrategist` (the deterministic strategist plus these explanations) lives in
`workbench.strategy.ai_strategist`: llm/ imports nothing of strategy/, so the two do not cycle.
"""

__all__ = ["LLMClient", "LLMError"]


def __getattr__(name: str):
    # lazy: `import workbench.llm.explain` (the strategist's built-in explainer) does not load httpx
    if name in ("LLMClient", "LLMError"):
        from workbench.llm import client
        return getattr(client, name)
    raise AttributeError(name)
