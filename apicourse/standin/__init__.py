"""A local stand-in for the OpenAI, Anthropic and Hugging Face APIs, used to record the course's cassettes.

It answers in each provider's documented wire format (ids, usage, finish/stop reasons, SSE event
sequences, headers such as ``x-request-id``, ``request-id``, ``x-ratelimit-*``), so the official SDKs
parse its answers with their own typed models. Every answer carries ``x-apicourse-standin: 1``: a
cassette recorded from it can never pass for a live recording.

Routes keep the original host as their first path segment, matching
:func:`apicourse.replay.provider_to_standin_url`::

    https://api.openai.com/v1/chat/completions  →  http://127.0.0.1:PORT/api.openai.com/v1/chat/completions

Use it
------
* ``python -m apicourse.record --standin notebooks/05_openai.ipynb`` — records a cassette against it;
* ``python -m apicourse.standin [--port 8765] [--notebook 05_openai]`` — serves it in the foreground;
* in Python::

    from apicourse.standin import StandIn
    with StandIn(notebook="05_openai") as standin:      # 127.0.0.1, a free port, stops itself
        client = openai.OpenAI(base_url=standin.url + "/api.openai.com/v1", api_key="sk-test")

Keys: any key is accepted except an empty one or one containing ``invalid`` or ``wrong`` (401, in the
provider's own error JSON). A request the real API would refuse — a missing required parameter, a wrong role,
a ``tool_result`` without its ``tool_use``, an unknown model — gets the provider's status and error body; the
rules live in one place, :mod:`apicourse.standin.validation`. Models named in :data:`apicourse.standin.catalog.RETIRED`, or containing
``retired``, get the provider's 404.

Authored answers
----------------
What the "model" says is data, not code: ``apicourse/standin/answers/<notebook>.yaml``, one file per
notebook, plus ``_defaults.yaml`` for every notebook. A request is answered by the first entry of the
notebook's file that matches, then the first of ``_defaults.yaml``, then the notebook file's
``default:``; if nothing matches, a fallback text says which file to add an entry to (and the record
command warns about it). ::

    default:                       # optional: used when no entry matches
      text: "I'm the stand-in; ask me about the weather."
    answers:
      - match: "capital of France"          # substring(s) of the latest user message, case-insensitive;
        text: "Paris."                      #   a list means all must appear
      - match: ["weather", "Paris"]
        tool_call: {name: get_weather, arguments: {city: Paris}}   # asked for when the request offers
        text: "It is {result[temp_c]} °C in Paris."                #   that tool; after the tool result
                                                                   #   comes back, `text` is the answer
      - match: "tell me a story"
        params: {temperature: 1.5}          # only when the request has exactly these fields
        text: ["Once upon a time…", "Long ago…"]   # a list: picked by a hash of the request (and per choice with n>1)
      - match: "great course"
        labels: [{label: POSITIVE, score: 0.9987}, {label: NEGATIVE, score: 0.0013}]   # text-classification
      - match: "lighthouse"
        image: {width: 256, height: 256, sky: [20, 30, 90]}                            # text-to-image
      - match: "please fail"
        status: 400                         # answer with the provider's error JSON
        error: "Invalid 'messages': …"

Optional filters on an entry: ``system`` (substring of the system prompt), ``provider`` (``openai``,
``anthropic``, ``huggingface``), ``api`` (``chat.completions``, ``responses``, ``messages``,
``hf.chat``, ``hf.text-classification``, ``hf.text-to-image``), ``model`` (substring). Other fields:
``tool_calls`` (a list, for parallel calls), ``preamble`` (text Claude says before its tool call;
OpenAI sends no text with tool calls), ``note``
(ignored; for the author). Placeholders in ``text``: ``{tool_result}`` (the tool's answer as sent),
``{result[field]}`` (a field of it when it is JSON), ``{model}``, ``{user}``.

Without an entry, text classification scores a small sentiment lexicon and text-to-image draws a
deterministic landscape; ``max_tokens`` (``max_output_tokens``) cuts text and reports ``length`` /
``max_tokens`` / ``incomplete``. Token counts are a deterministic tokenizer-ish count
(:func:`apicourse.standin.common.count_tokens`); ids and timestamps derive from a hash of the request,
so recording twice gives the same cassette.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apicourse.standin.server import StandIn, create_app, free_port

__all__ = ["StandIn", "create_app", "free_port"]


def __getattr__(name: str) -> Any:
    # imported on first use: a kernel that only reads the stand-in's rules (apicourse.models) never loads FastAPI
    if name in __all__:
        from apicourse.standin import server

        return getattr(server, name)
    raise AttributeError(f"module 'apicourse.standin' has no attribute {name!r}")
