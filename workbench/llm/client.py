"""A small async client for any OpenAI-compatible chat server (Modular MAX, llama.cpp, vLLM, ...).

``LLMClient.chat`` posts to ``{base_url}/chat/completions`` with timeouts, retries
with exponential backoff on connection errors and 5xx answers, optional
streaming (server-sent events) and optional structured output
(``response_format={"type": "json_schema", ...}``). It measures time to first
token, total time and tokens/s. Errors are `LLMError` with a short ``reason``
(``unreachable``, ``timeout``, ``http_500``, ``structured_output_unsupported``,
``truncated_stream``, ``invalid_response``) so callers can count fallbacks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any

import httpx

__all__ = ["LLMClient", "LLMError", "ChatResult", "DEFAULT_BASE_URL", "DEFAULT_MODEL"]

DEFAULT_BASE_URL = "http://localhost:8000/v1"
DEFAULT_MODEL = "modularai/Llama-3.1-8B-Instruct-GGUF"


class LLMError(RuntimeError):
    """A chat request failed; ``reason`` is a short stable key for counting."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(f"{reason}: {message}")


@dataclasses.dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    structured: bool
    ttft_s: float | None
    total_s: float
    completion_tokens: int | None
    finish_reason: str | None = None  # "stop", or "length" when max_tokens cut the answer

    @property
    def tokens_per_s(self) -> float | None:
        if not self.completion_tokens or self.total_s <= 0:
            return None
        return self.completion_tokens / self.total_s


class LLMClient:
    """Async client for ``/v1/chat/completions``.

    Parameters
    ----------
    base_url : str
        Server root including ``/v1``.
    model : str
        Model name sent with each request.
    api_key : str, optional
        Sent as a bearer token when given.
    timeout_s : float
        Overall limit for one attempt (connect + read).
    retries : int
        Extra attempts after a connection error, timeout or 5xx answer.
    backoff_s : float
        First retry delay; doubles each retry.
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, model: str = DEFAULT_MODEL, api_key: str | None = None,
                 timeout_s: float = 30.0, retries: int = 2, backoff_s: float = 0.25):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url: {base_url!r} is not an http(s) URL")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s: {timeout_s} is not above 0")
        if retries < 0:
            raise ValueError(f"retries: {retries} is below minimum 0")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
                                       headers=headers)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def models(self) -> list[str]:
        """Model ids the server lists at ``/models``."""
        try:
            response = await self._http.get(f"{self.base_url}/models")
            response.raise_for_status()
            return [m.get("id") for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise LLMError("unreachable", f"{self.base_url}/models: {exc}") from None

    async def chat(self, messages: list[dict[str, str]], *, json_schema: dict | None = None,
                   stream: bool = False, max_tokens: int = 400, temperature: float = 0.2) -> ChatResult:
        """One chat completion, retried on transient failures.

        With ``json_schema`` the request asks for structured output; a server that
        refuses it raises ``LLMError('structured_output_unsupported', ...)`` (no retry).
        """
        body: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                "temperature": temperature, "stream": stream}
        if json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "explanations", "schema": json_schema,
                                                       "strict": True}}
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                return await asyncio.wait_for(self._once(body, json_schema is not None), self.timeout_s)
            except TimeoutError:
                error = LLMError("timeout", f"no complete answer within {self.timeout_s} s")
            except LLMError as exc:
                error = exc
                if not exc.reason.startswith(("http_5", "unreachable")):
                    raise
            if attempt < self.retries:
                await asyncio.sleep(delay)
                delay *= 2
        raise error

    async def _once(self, body: dict, structured: bool) -> ChatResult:
        t0 = time.perf_counter()
        url = f"{self.base_url}/chat/completions"
        try:
            if body["stream"]:
                return await self._stream(url, body, structured, t0)
            response = await self._http.post(url, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise LLMError("unreachable", f"{url}: {exc}") from None
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as exc:
            raise LLMError("invalid_response", f"{url}: {exc}") from None
        self._raise_for_status(response, structured)
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"] or ""
            finish = data["choices"][0].get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMError("invalid_response", f"not an OpenAI chat completion ({exc})") from None
        total = time.perf_counter() - t0
        usage = data.get("usage") or {}
        return ChatResult(text=text, model=data.get("model", self.model), structured=structured, ttft_s=None,
                          total_s=total, completion_tokens=usage.get("completion_tokens"), finish_reason=finish)

    async def _stream(self, url: str, body: dict, structured: bool, t0: float) -> ChatResult:
        parts: list[str] = []
        ttft = None
        finish = None
        model = self.model
        usage: dict | None = None
        chunks = 0
        done = False
        try:
            async with self._http.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    await response.aread()
                    self._raise_for_status(response, structured)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        done = True
                        break
                    try:
                        chunk = json.loads(payload)
                        model = chunk.get("model") or model
                        usage = chunk.get("usage") or usage
                        if not chunk["choices"]:  # a usage-only chunk (stream_options.include_usage)
                            continue
                        choice = chunk["choices"][0]
                        delta = (choice.get("delta") or {}).get("content") or ""
                        finish = choice.get("finish_reason") or finish
                    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                        raise LLMError("invalid_response", f"bad stream chunk ({exc})") from None
                    if delta and ttft is None:
                        ttft = time.perf_counter() - t0
                    parts.append(delta)
                    chunks += 1 if delta else 0
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise LLMError("unreachable", f"{url}: {exc}") from None
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as exc:  # connection dropped mid-stream
            raise LLMError("truncated_stream", f"stream broke after {chunks} chunks ({exc})") from None
        if not done:
            raise LLMError("truncated_stream", f"stream ended after {chunks} chunks without [DONE]")
        return ChatResult(text="".join(parts), model=model, structured=structured, ttft_s=ttft,
                          total_s=time.perf_counter() - t0,
                          completion_tokens=(usage or {}).get("completion_tokens") or chunks, finish_reason=finish)

    @staticmethod
    def _raise_for_status(response: httpx.Response, structured: bool) -> None:
        if response.status_code < 400:
            return
        text = response.text[:300]
        if response.status_code == 400 and structured and ("structured" in text or "response_format" in text
                                                           or "json_schema" in text):
            raise LLMError("structured_output_unsupported", text)
        raise LLMError(f"http_{response.status_code}", text)
