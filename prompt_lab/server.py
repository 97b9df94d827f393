"""Serve any chat backend over the OpenAI chat-completions protocol, on 127.0.0.1 only.

This lets the same client code talk to the local model and to a hosted API, and it is how the
tests check :class:`prompt_lab.openai_client.OpenAIChatClient` against the real model without any
network beyond the machine itself::

    with serve(load_local_model()) as base_url:   # e.g. http://127.0.0.1:54321/v1
        client = OpenAIChatClient(base_url, model="local")

A teaching server: it answers several requests at once (one thread each; the local model itself
runs one forward pass at a time), with no authentication, and is not for exposure to a network.
Used by ``chapters/prompting/prompt_experiments.ipynb`` and ``tests/test_prompt_http.py``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from book_core.checks import check_int, check_not_none
from prompt_lab.backends import ChatBackend, check_messages

MAX_BODY = 1_000_000


def _handler(backend: ChatBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._send(
                    200, {"object": "list", "data": [{"id": backend.name, "object": "model"}]}
                )
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._error(404, f"no route {self.path}; use /v1/chat/completions")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                self._error(400, "the request needs a JSON body (at most 1 MB)")
                return
            try:
                request = json.loads(self.rfile.read(length))
                messages = check_messages(request["messages"])
                max_tokens = int(request.get("max_tokens") or 16)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                self._error(400, f"bad request: {err}")
                return
            try:
                text = backend.chat(messages, max_new_tokens=max_tokens)
            except Exception as err:  # the backend failed: tell the client, keep serving
                self._send(500, {"error": {"message": f"backend error: {err}", "type": "server"}})
                return
            self._send(
                200,
                {
                    "id": f"chatcmpl-{time.time_ns()}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model") or backend.name,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                },
            )

    return Handler


def _check_port(port: int) -> int:
    return check_int("port", port, minimum=0, maximum=65535, fix="pass 0 for any free port")


def serve_on_thread(
    handler: Callable[..., BaseHTTPRequestHandler], port: int = 0
) -> contextlib.AbstractContextManager[str]:
    """Run an HTTP server for ``handler`` on 127.0.0.1 in a background thread; yield its root URL.

    ``port=0`` picks any free port. The server answers several requests at once and is shut
    down, its socket closed and its thread joined when the ``with`` block ends. Shared by
    :func:`serve` and the tests (the fake API server, the book's HTML for the browser tests).
    The arguments are checked at the call, before the ``with`` block starts.

    Raises:
        TypeError: ``handler`` is not callable, or ``port`` is not an integer.
        ValueError: ``port`` is outside 0..65535.
    """
    if not callable(handler):
        raise TypeError(
            f"handler must be a request handler class, got {type(handler).__name__}; pass a "
            "subclass of http.server.BaseHTTPRequestHandler."
        )
    return _serve_on_thread(handler, _check_port(port))


@contextlib.contextmanager
def _serve_on_thread(handler: Callable[..., BaseHTTPRequestHandler], port: int) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve(backend: ChatBackend, port: int = 0) -> contextlib.AbstractContextManager[str]:
    """Serve ``backend`` on 127.0.0.1 (``port=0``: any free port) and yield the base URL.

    The arguments are checked at the call, before the ``with`` block starts.

    Raises:
        TypeError: ``backend`` is None, or ``port`` is not an integer.
        ValueError: ``port`` is outside 0..65535.
    """
    check_not_none("backend", backend, "a ChatBackend, e.g. load_local_model()")
    return _serve(backend, _check_port(port))


@contextlib.contextmanager
def _serve(backend: ChatBackend, port: int) -> Iterator[str]:
    with serve_on_thread(_handler(backend), port) as root:
        yield f"{root}/v1"
