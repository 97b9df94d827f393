"""A client for any OpenAI-compatible chat-completions API, for readers who have one.

Configured only from the environment, never from a file in the repository:
``OPENAI_BASE_URL`` (e.g. ``https://api.openai.com/v1`` or a local server's
``http://127.0.0.1:8000/v1``), ``OPENAI_MODEL`` and ``OPENAI_API_KEY`` (optional for local
servers). Uses only the standard library. Temperature 0, so answers are as repeatable as the
provider allows. Used by ``chapters/prompting/prompt_experiments.ipynb``.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from book_core.checks import check_int, check_number, check_str
from prompt_lab.backends import BackendError, ChatBackend, Message, check_messages


class OpenAIChatClient(ChatBackend):
    """POSTs chats to ``{base_url}/chat/completions`` and returns the first choice's text."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0
    ) -> None:
        check_str("base_url", base_url, example="'https://api.openai.com/v1'")
        check_str("model", model, example="'gpt-4o-mini'")
        if api_key is not None:
            check_str("api_key", api_key, example="os.environ['OPENAI_API_KEY']")
        timeout = check_number("timeout", timeout, above=0, example=60)
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not model:
            raise ValueError("model is empty: name the model the server should use")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = model
        self._api_key = api_key
        self.timeout = timeout

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OpenAIChatClient:
        """Build a client from ``OPENAI_BASE_URL``, ``OPENAI_MODEL`` and ``OPENAI_API_KEY``."""
        env = os.environ if environ is None else environ
        missing = [k for k in ("OPENAI_BASE_URL", "OPENAI_MODEL") if not env.get(k)]
        if missing:
            raise BackendError(
                f"set {' and '.join(missing)} in the environment (for example "
                "OPENAI_BASE_URL=https://api.openai.com/v1 OPENAI_MODEL=<model> "
                "OPENAI_API_KEY=<key>); keys never go into files in the repository"
            )
        return cls(env["OPENAI_BASE_URL"], env["OPENAI_MODEL"], env.get("OPENAI_API_KEY") or None)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIChatClient(base_url={self.base_url!r}, model={self.model!r})"

    def chat(self, messages: Sequence[Message], *, max_new_tokens: int = 16) -> str:
        check_int("max_new_tokens", max_new_tokens, fix="pass an int such as 16")
        body = {
            "model": self.model,
            "messages": check_messages(messages),
            "max_tokens": max_new_tokens,
            "temperature": 0,
        }
        data = self._post("/chat/completions", body)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise BackendError(
                f"malformed chat-completions response (no choices[0].message.content): "
                f"{json.dumps(data)[:200]}"
            ) from err
        if not isinstance(content, str):
            raise BackendError(f"malformed response: content is {type(content).__name__}, not str")
        return content.strip()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:300]
            raise BackendError(f"the server answered HTTP {err.code}: {detail}") from err
        except (urllib.error.URLError, TimeoutError) as err:
            reason = getattr(err, "reason", err)
            raise BackendError(f"could not reach {self.base_url}: {reason}") from err
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise BackendError(
                f"malformed response: not JSON ({raw[:100].decode('utf-8', 'replace')!r})"
            ) from err
        if not isinstance(data, dict):
            raise BackendError(f"malformed response: expected a JSON object, got {data!r:.100}")
        return data
