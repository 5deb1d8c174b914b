"""LLM explanations: an OpenAI-compatible client, the built-in explainer, checks, and AIStrategist."""

__all__ = ["AIStrategist", "LLMClient", "LLMError"]


def __getattr__(name: str):
    # lazy: the strategist imports workbench.llm.explain, and AIStrategist imports the strategist
    if name == "AIStrategist":
        from workbench.llm.ai_strategist import AIStrategist
        return AIStrategist
    if name in ("LLMClient", "LLMError"):
        from workbench.llm import client
        return getattr(client, name)
    raise AttributeError(name)
