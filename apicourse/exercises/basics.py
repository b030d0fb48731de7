"""Instant checks for the "Try it" cells of lessons 01–04, and the :class:`Verdict` every check returns.

Each ``check_…(answer)`` prints ``✓ …`` or ``✗ …`` with a hint, and returns a :class:`Verdict`
(true when the answer is right) that shows nothing more in a notebook::

    >>> verdict = check_deleted_status(404)
    ✓ 404 Not Found: the file is gone, so the URL names nothing any more.
    >>> bool(check_deleted_status("404 Not Found"))
    ✓ 404 Not Found: the file is gone, so the URL names nothing any more.
    True

The checks accept an answer in any reasonable style — ``404``, ``"404"``, ``HTTPStatus.NOT_FOUND``
or the ``Response`` itself; a dict, the parsed JSON or a list — and reject wrong ones with a hint
about what to look at.
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """The result of a check: true when right, with the message that was printed."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:  # already printed: show nothing more
        return None


def _verdict(passed: bool, message: str) -> Verdict:
    text = ("✓ " if passed else "✗ Not yet. ") + message
    print(text)
    return Verdict(passed, text)


def _ok(message: str) -> Verdict:
    return _verdict(True, message)


def _hint(message: str) -> Verdict:
    return _verdict(False, message)


def _todo(check: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """A check that first says so when the answer is still the ``...`` placeholder."""

    @functools.wraps(check)
    def guarded(answer: Any, *args: Any, **kwargs: Any) -> Verdict:
        if answer is ...:
            return _hint("Replace the ... with your answer, then run the cell again.")
        return check(answer, *args, **kwargs)

    return guarded


# --------------------------------------------------------------------------- normalising answers


def as_status(answer: Any) -> int | None:
    """A status code from ``404``, ``"404"``, ``"404 Not Found"``, ``HTTPStatus.NOT_FOUND`` or a response.

    >>> [as_status(a) for a in (404, "404", " 404 Not Found", HTTPStatus.NOT_FOUND, "Not Found", True)]
    [404, 404, 404, 404, 404, None]
    """
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return int(answer)
    code = getattr(answer, "status_code", None)
    if isinstance(code, int):
        return code
    if isinstance(answer, str):
        text = answer.strip()
        match = re.match(r"(\d{3})\b", text)
        if match:
            return int(match.group(1))
        wanted = re.sub(r"[^a-z]", "", text.lower())
        for status in HTTPStatus:
            if re.sub(r"[^a-z]", "", status.phrase.lower()) == wanted and wanted:
                return int(status)
    return None


def as_method(answer: Any) -> str | None:
    """An HTTP method name from ``"get"``, ``" GET "``, ``HTTPMethod.GET`` or ``requests.get``.

    >>> import requests
    >>> [as_method(a) for a in ("get", " PATCH ", requests.delete)]
    ['GET', 'PATCH', 'DELETE']
    """
    if callable(answer) and getattr(answer, "__name__", "").upper() in {
        "GET",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
    }:
        return answer.__name__.upper()
    value = getattr(answer, "value", answer)
    if isinstance(value, str) and value.strip():
        return value.strip().upper()
    return None


def as_words(answer: Any) -> list[str]:
    """Scopes or methods written as ``"a b"``, ``"a, b"``, ``["a", "b"]`` or ``{"a", "b"}`` → a list.

    >>> as_words("files:read, models:read"), as_words({"GET"})
    (['files:read', 'models:read'], ['GET'])
    """
    if isinstance(answer, str):
        return [w for w in re.split(r"[\s,]+", answer.strip()) if w]
    if isinstance(answer, Iterable):
        return [str(getattr(w, "value", w)).strip() for w in answer]
    return []


def _json_of(answer: Any) -> Any:
    """A response → its JSON; anything else unchanged."""
    if hasattr(answer, "json") and hasattr(answer, "status_code"):
        try:
            return answer.json()
        except ValueError:
            return None
    return answer


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- lesson 01


METHOD_TABLE: dict[str, set[str]] = {
    "list your models": {"GET"},
    "send a prompt": {"POST"},
    "upload a file": {"POST"},
    "update a job's metadata": {"PATCH", "PUT"},
    "delete a file": {"DELETE"},
}
"""Lesson 01's "which method?" table: each action with the methods the course text allows."""


@_todo
def check_methods(answer: Mapping[str, Any] | Iterable[Any]) -> Verdict:
    """Which HTTP method does each action of :data:`METHOD_TABLE` use?

    Give a dict keyed by the actions, or the five methods in the table's order.

    >>> v = check_methods(["get", "POST", "post", "PATCH", "delete"])
    ✓ All five right. For AI APIs you will use POST most of the time.
    """
    actions = list(METHOD_TABLE)
    if isinstance(answer, Mapping):
        lookup = {re.sub(r"\W", "", str(k).lower()): v for k, v in answer.items()}
        given = [lookup.get(re.sub(r"\W", "", a.lower())) for a in actions]
    elif isinstance(answer, Iterable) and not isinstance(answer, str):
        given = list(answer)
        if len(given) != len(actions):
            return _hint(f"Give one method for each of the {len(actions)} actions, in the table's order.")
    else:
        return _hint("Give a dict like {'list your models': 'GET', ...} or a list of five methods.")
    wrong = []
    for action, value in zip(actions, given):
        if value is None or value is ...:
            wrong.append(f"'{action}' has no answer yet")
        elif as_method(value) not in METHOD_TABLE[action]:
            wrong.append(f"'{action}' is not {as_method(value)}")
    if wrong:
        return _hint(
            "; ".join(wrong)
            + ". Ask: does it only read (GET), create or trigger (POST), change (PUT/PATCH), "
            "or remove (DELETE)?"
        )
    return _ok("All five right. For AI APIs you will use POST most of the time.")


@_todo
def check_models(answer: Any) -> Verdict:
    """The ids of the practice API's models (from ``GET /v1/models``).

    Accepts the response, its JSON, the ``data`` list, or a list/set of ids.

    >>> v = check_models(["gpt-4o", "gpt-4o-mini", "practice-echo"])
    ✓ Three models: gpt-4o, gpt-4o-mini, practice-echo.
    """
    from apicourse import practice  # imported here: lessons 05-09 use other checks and never load it

    data = _json_of(answer)
    if isinstance(data, Mapping):
        if "error" in data:
            return _hint(
                f"That is an error answer: {data['error'].get('message', data['error'])} "
                "Did you send the key?"
            )
        data = data.get("data", data)
    if isinstance(data, Mapping) or isinstance(data, str) or not isinstance(data, Iterable):
        return _hint(
            "Give the list of model ids: response.json()['data'] holds one dict per model, each with an 'id'."
        )
    ids = []
    for item in data:
        ids.append(item.get("id") if isinstance(item, Mapping) else item)
    if set(ids) == set(practice.MODELS) and len(ids) == len(practice.MODELS):
        return _ok(f"Three models: {', '.join(practice.MODELS)}.")
    if all(isinstance(i, Mapping) for i in data) and not ids:
        return _hint("Each model is a dict; take its 'id'.")
    return _hint(f"{_describe(ids)} is not the list of ids. Try [m['id'] for m in response.json()['data']].")


@_todo
def check_deleted_status(answer: Any) -> Verdict:
    """The status of ``GET /v1/files/<id>`` after that file was deleted (404).

    >>> v = check_deleted_status(200)
    ✗ Not yet. 200 would mean the file is still there. Send the GET after the DELETE; read its status_code.
    """
    status = as_status(answer)
    if status == 404:
        return _ok("404 Not Found: the file is gone, so the URL names nothing any more.")
    if status is None:
        return _hint("Give a status code, e.g. 404, or the response itself.")
    if status in (200, 201):
        return _hint(
            f"{status} would mean the file is still there. "
            "Send the GET after the DELETE; read its status_code."
        )
    if status == 204:
        return _hint(
            "204 No Content is what some APIs answer to the DELETE itself; what does the GET afterwards say?"
        )
    if status == 401:
        return _hint("401 means the key was missing: send headers=api.headers with the GET.")
    return _hint(f"The server did not answer {status}. Send the GET and look at response.status_code.")


@_todo
def check_read_only_methods(answer: Any) -> Verdict:
    """Which of GET, POST, PUT, PATCH, DELETE never change anything on the server? (GET)

    >>> v = check_read_only_methods({"get"})
    ✓ Only GET: it reads, with no side effects, so it is always safe to repeat.
    """
    methods = {as_method(m) for m in as_words(answer)}
    safe_too = methods & {"HEAD", "OPTIONS"}  # safe methods as well, though not among the five asked about
    if methods - safe_too == {"GET"}:
        also = (
            f" ({' and '.join(sorted(safe_too))} never change anything either, but the question was about the five.)"
            if safe_too
            else ""
        )
        return _ok("Only GET: it reads, with no side effects, so it is always safe to repeat." + also)
    if "GET" not in methods:
        return _hint("One method only reads. Which one did you use to list the models?")
    extra = sorted(m for m in methods - {"GET"} - safe_too if m)
    return _hint(f"{', '.join(extra)} change(s) something on the server (look at the file list after each).")


# --------------------------------------------------------------------------- lesson 02


def _content_of(result: Any) -> str:
    data = _json_of(result)
    if hasattr(data, "choices"):
        return data.choices[0].message.content
    return data["choices"][0]["message"]["content"]


@_todo
def check_message(answer: Any, result: Any) -> Verdict:
    """The reply's text, dug out of a chat-completion ``result`` (``choices[0].message.content``).

    >>> result = {"choices": [{"message": {"role": "assistant", "content": "Hi!"}}], "usage": {}}
    >>> v = check_message(result["choices"][0]["message"], result)
    ✗ Not yet. That is the whole message (role and content); go one level deeper: ['content'].
    """
    expected = _content_of(result)
    if isinstance(answer, str):
        if answer.strip() == expected.strip():
            return _ok(f"The reply is: {expected}")
        return _hint(
            "That text is not the reply's content. Follow result['choices'][0]['message']['content']."
        )
    if isinstance(answer, Mapping):
        if "content" in answer and "role" in answer:
            return _hint("That is the whole message (role and content); go one level deeper: ['content'].")
        if "message" in answer:
            return _hint("That is a choice; take ['message']['content'] from it.")
        if "choices" in answer:
            return _hint("That is the whole result; start with ['choices'].")
    if isinstance(answer, list):
        return _hint("choices is a list: take its first item with [0].")
    if hasattr(answer, "content") and isinstance(answer.content, str):
        return check_message(answer.content, result)
    return _hint(f"{_describe(answer)} is not the text of the reply.")


@_todo
def check_total_tokens(answer: Any, result: Any) -> Verdict:
    """``usage.total_tokens`` of a chat-completion ``result`` (as a number or digits).

    >>> result = {"usage": {"prompt_tokens": 6, "completion_tokens": 20, "total_tokens": 26}}
    >>> v = check_total_tokens("26", result)
    ✓ 26 tokens: 6 in the prompt + 20 in the reply. That's what you pay for.
    """
    usage = _json_of(result)["usage"]
    if hasattr(answer, "total_tokens"):
        answer = answer.total_tokens
    if isinstance(answer, Mapping) and "total_tokens" in answer:
        return _hint("That is the whole usage dict; take ['total_tokens'] from it.")
    try:
        value = int(str(answer).strip()) if not isinstance(answer, bool) else None
    except ValueError:
        value = None
    if value == usage["total_tokens"]:
        return _ok(
            f"{value} tokens: {usage['prompt_tokens']} in the prompt + "
            f"{usage['completion_tokens']} in the reply. "
            "That's what you pay for."
        )
    if value == usage.get("prompt_tokens"):
        return _hint("That's only the prompt's tokens; the total also counts the reply.")
    if value == usage.get("completion_tokens"):
        return _hint("That's only the reply's tokens; the total also counts the prompt.")
    return _hint("Follow result['usage']['total_tokens'].")


_GOOD_USAGE = {"prompt_tokens": 6, "completion_tokens": 20, "total_tokens": 26}
_BAD_USAGES = (
    ({"prompt_tokens": 6, "completion_tokens": 20}, "a usage without total_tokens"),
    ({"prompt_tokens": 6, "completion_tokens": 20, "total_tokens": "lots"}, 'total_tokens="lots"'),
)


def _validator(model: Any) -> Callable[[Any], Any]:
    if hasattr(model, "model_validate"):
        return model.model_validate
    if hasattr(model, "validate_python"):
        return model.validate_python
    if callable(model):
        return model if not isinstance(model, type) else (lambda data: model(**data))
    raise TypeError


@_todo
def check_usage_model(model: Any) -> Verdict:
    """A validator for the ``usage`` object: a pydantic model (or TypeAdapter, or a function that raises).

    It must accept a good usage and refuse one with a missing or non-number ``total_tokens``.

    >>> from pydantic import BaseModel
    >>> class Usage(BaseModel):
    ...     prompt_tokens: int
    ...     completion_tokens: int
    ...     total_tokens: int
    >>> v = check_usage_model(Usage)
    ✓ It accepts a good usage and refuses both bad ones: now a bad response fails loudly, here, not later.
    """
    try:
        if hasattr(model, "model_validate") and not isinstance(model, type):
            raise TypeError("an instance")
        validate = _validator(model)
    except TypeError:
        return _hint("Give the model class itself (e.g. Usage), not an instance or a string.")
    try:
        parsed = validate(dict(_GOOD_USAGE))
    except Exception as exc:  # the learner's code: any failure is a finding
        return _hint(f"It refused a good usage {_GOOD_USAGE}: {type(exc).__name__}: {str(exc)[:120]}")
    total = getattr(parsed, "total_tokens", None)
    if total is None and isinstance(parsed, Mapping):
        total = parsed.get("total_tokens")
    if total != 26:
        return _hint("After validation, total_tokens should be 26 (an int field named total_tokens).")
    for bad, label in _BAD_USAGES:
        try:
            validate(dict(bad))
        except Exception:
            continue
        if isinstance(model, type) and not hasattr(model, "model_validate"):
            return _hint(
                f"It accepted {label}: plain classes and dataclasses don't check types. "
                "Use pydantic's BaseModel."
            )
        return _hint(
            f"It accepted {label}. Declare each field with its type (total_tokens: int), no default."
        )
    return _ok(
        "It accepts a good usage and refuses both bad ones: now a bad response fails loudly, here, not later."
    )


@_todo
def check_malformed_status(answer: Any) -> Verdict:
    """The status the practice API gives a body that is not valid JSON (400).

    >>> v = check_malformed_status(400)
    ✓ 400 Bad Request: the server could not even read the request. Nothing was created, nothing was charged.
    """
    status = as_status(answer)
    if status == 400:
        return _ok(
            "400 Bad Request: the server could not even read the request. "
            "Nothing was created, nothing was charged."
        )
    if status == 422:
        return _hint(
            "422 is for JSON that parses but has wrong values or types. What did the broken-JSON request get?"
        )
    if status is None:
        return _hint("Give the status code (a number) or the response.")
    return _hint(f"Not {status}: send the broken body with data=... and read response.status_code.")


# --------------------------------------------------------------------------- lesson 03


@_todo
def check_auth_headers(headers: Any) -> Verdict:
    """Headers that authenticate with the key in ``PRACTICE_API_KEY``: ``Authorization: Bearer <key>``.

    Accepts a dict (header names in any case), a ``requests.Session`` or a prepared request.
    """
    from apicourse import practice  # imported here: lessons 05-09 use other checks and never load it

    key = os.environ.get(practice.KEY_VAR, "")
    if not key:
        return _hint(f"{practice.KEY_VAR} is not in the environment yet: run the load_dotenv() cell first.")
    found = getattr(headers, "headers", headers)
    if not isinstance(found, Mapping):
        return _hint('Give a dict like {"Authorization": f"Bearer {api_key}"}.')
    value = next((str(v) for k, v in found.items() if str(k).lower() == "authorization"), None)
    if value is None:
        return _hint("There is no Authorization header. The key goes in 'Authorization'.")
    if value == f"Bearer {key}":
        return _ok("Authorization: Bearer <your key> — read from the environment, never typed into the code.")
    if value == key:
        return _hint("The value needs the word Bearer and a space before the key.")
    if "{" in value:
        return _hint('The braces were sent literally: put an f before the string, f"Bearer {api_key}".')
    if value.startswith("Bearer "):
        return _hint("That is not the key in PRACTICE_API_KEY: read it with os.environ['PRACTICE_API_KEY'].")
    return _hint("The value should be 'Bearer ' followed by the key.")


@_todo
def check_mask(mask: Callable[[str], str]) -> Verdict:
    """A function that hides a key when shown: it keeps a few characters to recognise it, never the key.

    >>> v = check_mask(lambda key: key[:4] + "..." + key[-4:])
    ✓ Recognisable, not usable. Show keys like this in logs and printouts.
    """
    from apicourse import practice  # imported here: lessons 05-09 use other checks and never load it

    samples = [practice.new_key(), "k" + "0123456789abcdefghij" * 2, practice.new_key()[::-1]]
    for key in samples:
        try:
            shown = mask(key)
        except Exception as exc:
            return _hint(f"It failed on a key of {len(key)} characters: {type(exc).__name__}: {exc}")
        if not isinstance(shown, str):
            return _hint("Return the masked text (a str); don't print it.")
        if key in shown:
            return _hint("The whole key is still in there.")
        prefix = len(os.path.commonprefix([key, shown]))
        suffix = len(os.path.commonprefix([key[::-1], shown[::-1]]))
        if prefix + suffix > 8:
            return _hint(
                f"It shows {prefix + suffix} characters of the key; 8 at most (e.g. the first and last 4)."
            )
        if prefix + suffix < 2:
            return _hint("Keep a few characters (the first or last 4) so you can tell which key it was.")
    if len({mask(k) for k in samples}) < len(samples):
        return _hint("Different keys look the same; keep a few of their own characters.")
    return _ok("Recognisable, not usable. Show keys like this in logs and printouts.")


def gitignore_ignores(patterns: Iterable[str], name: str) -> bool:
    """Whether ``.gitignore`` lines ignore a file at the top of the repository (last match wins).

    >>> gitignore_ignores([".env"], ".env"), gitignore_ignores(["*.env", "!.env"], ".env")
    (True, False)
    >>> gitignore_ignores(["**/.env"], ".env"), gitignore_ignores(["config/.env"], ".env")
    (True, False)
    """
    ignored = False
    for raw in patterns:
        line = raw.rstrip("\n").rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.lstrip("/") if pattern.startswith("/") else pattern
        while pattern.startswith("**/"):  # a leading **/ matches in every folder, the top one included
            pattern = pattern[3:]
        if pattern.endswith("/"):
            continue  # directories only
        if fnmatch.fnmatchcase(name, pattern) or (
            "/" not in pattern and fnmatch.fnmatchcase(name, pattern.split("/")[-1])
        ):
            ignored = not negate
    return ignored


@_todo
def check_gitignore(answer: Any) -> Verdict:
    """``.gitignore`` text (or its lines, or a path to the file) that keeps ``.env`` out of git.

    >>> v = check_gitignore("__pycache__/\\n.env\\n")
    ✓ git will never pick up .env. (Check with: git check-ignore -v .env)
    """
    if isinstance(answer, os.PathLike):
        try:
            answer = open(answer, encoding="utf-8").read()
        except OSError:
            return _hint(f"There is no file at {answer}.")
    lines = answer.splitlines() if isinstance(answer, str) else [str(x) for x in answer]
    if gitignore_ignores(lines, ".env"):
        if gitignore_ignores(lines, ".env.example"):
            return _ok(
                "git will never pick up .env (your pattern also hides .env.example; add !.env.example if you "
                "want to share a template)."
            )
        return _ok("git will never pick up .env. (Check with: git check-ignore -v .env)")
    if any(line.strip().lstrip("#").strip() == ".env" for line in lines):
        return _hint("A line starting with # is a comment. Write .env on a line of its own.")
    return _hint("None of these lines matches a file named .env. Add a line: .env")


@_todo
def check_delete_scope(answer: Any) -> Verdict:
    """The one scope a token needs to delete a file (``files:write``).

    >>> v = check_delete_scope(["files:write"])
    ✓ files:write, and nothing more: ask for the least a job needs.
    """
    from apicourse import practice  # imported here: lessons 05-09 use other checks and never load it

    scopes = set(as_words(answer))
    if scopes == {"files:write"}:
        return _ok("files:write, and nothing more: ask for the least a job needs.")
    if "files:write" in scopes:
        return _hint(
            "files:write is right, but only that one: a token should carry no more than the job needs."
        )
    if "files:read" in scopes:
        return _hint("files:read only lets you list and fetch. Deleting changes something.")
    unknown = scopes - set(practice.SCOPES)
    if unknown:
        return _hint(
            f"{', '.join(sorted(unknown))}: not a scope of the practice API. "
            f"Known: {', '.join(practice.SCOPES)}."
        )
    return _hint("Look at the 403's message: it names the missing scope.")


@_todo
def check_read_only_token(token: Any, api: Any = None) -> Verdict:
    """A token from the practice API that can read models and files but change nothing.

    Accepts Authlib's token (a dict), any dict with ``access_token``, or the token string.
    """
    from apicourse import practice  # imported here: lessons 05-09 use other checks and never load it

    api = api or practice.current()
    if api is None:
        return _hint("Start the practice API first: api = practice.start().")
    value = token.get("access_token") if isinstance(token, Mapping) else token
    if not isinstance(value, str):
        return _hint("Give the token: what session.fetch_token(...) returned, or its 'access_token'.")
    info = api.token_info(value)
    if not info.get("active"):
        if "client_id" in info:
            return _hint("That token has expired: fetch a new one.")
        return _hint("The practice API never issued that token (an API key is not an OAuth token).")
    scopes = set(info["scope"].split())
    writes = sorted(s for s in scopes if not s.endswith(":read"))
    if writes:
        return _hint(
            f"It can still change things ({', '.join(writes)}). "
            "Ask only for read scopes: scope='models:read files:read'."
        )
    missing = {"models:read", "files:read"} - scopes
    if missing:
        return _hint(f"It can't read everything it needs: add {', '.join(sorted(missing))} to the scope.")
    return _ok(f"A read-only token ({info['scope']}), valid for {info['expires_in']:.0f} more seconds.")


# --------------------------------------------------------------------------- lesson 04


@_todo
def check_should_retry(should_retry: Callable[[Any], Any]) -> Verdict:
    """A function ``status → bool``: retry 429 and 5xx; never retry the other 4xx (fix the request).

    408 and 409 are left to the learner: the SDKs retry them (a request timeout, a lock timeout), as lesson 04
    says, and so may the learner's function.

    >>> v = check_should_retry(lambda status: status == 429 or status >= 500)
    ✓ Retry when waiting can help (429, 5xx); fail at once when only a fix can (400, 401, 403, 404, 422).
    """
    retry = (429, 500, 502, 503, 504)
    never = (400, 401, 403, 404, 413, 422)  # not 408/409: the SDKs retry those (openai _should_retry)

    class _Response:
        def __init__(self, status: int) -> None:
            self.status_code = status
            self.ok = status < 400

    def call(status: int) -> Any:
        try:
            return should_retry(status)
        except (AttributeError, TypeError):
            return should_retry(_Response(status))

    try:
        wrong_retry = [s for s in retry if not call(s)]
        wrong_never = [s for s in never if call(s)]
    except Exception as exc:
        return _hint(f"It failed: {type(exc).__name__}: {exc}")
    if wrong_retry:
        return _hint(f"It would not retry {wrong_retry}: a 429 or a 5xx may well succeed later.")
    if wrong_never:
        return _hint(
            f"It would retry {wrong_never}: those fail the same way every time; fix the request instead."
        )
    return _ok(
        "Retry when waiting can help (429, 5xx); fail at once when only a fix can (400, 401, 403, 404, 422)."
    )


@_todo
def check_delay(delay: Callable[..., float]) -> Verdict:
    """A function giving the wait before retry ``attempt`` (0, 1, 2 …): exponential, capped, jittered.

    If it takes ``base`` and ``cap`` parameters they are set to 0.5 and 8.

    >>> import random
    >>> v = check_delay(lambda attempt, base=0.5, cap=8: random.uniform(0, min(cap, base * 2 ** attempt)))
    ✓ Exponential, capped at 8 s, with jitter.
    """
    try:
        params = inspect.signature(delay).parameters
    except (TypeError, ValueError):
        params = {}
    kwargs = {name: value for name, value in (("base", 0.5), ("cap", 8.0)) if name in params}
    samples: dict[int, list[float]] = {}
    started = time.monotonic()
    try:
        for attempt in (0, 1, 2, 3, 4, 10, 20, 40):
            samples[attempt] = [float(delay(attempt, **kwargs)) for _ in range(400)]
            if time.monotonic() - started > 3:
                return _hint("It takes too long: return the number of seconds, don't sleep inside it.")
    except OverflowError:
        return _hint("2 ** 40 overflowed: apply the cap with min(cap, ...) before it grows that big.")
    except Exception as exc:
        return _hint(f"It failed: {type(exc).__name__}: {exc}")
    values = [v for vs in samples.values() for v in vs]
    if any(math.isnan(v) or v < 0 for v in values):
        return _hint("A wait can't be negative.")
    highest = {a: max(vs) for a, vs in samples.items()}
    cap_value = kwargs.get("cap")
    if cap_value is not None and max(values) > cap_value + 1e-9:
        return _hint(f"It waited {max(values):.3g} s with cap=8: apply the cap with min(cap, ...).")
    if highest[40] > 600 or highest[40] > 2 * highest[20] + 1e-9:
        return _hint("The waits keep growing: put a cap on them, e.g. min(cap, base * 2 ** attempt).")
    # exponential: each step up is about twice the one before (a constant added to every wait cancels out)
    first_step, second_step = highest[1] - highest[0], highest[2] - highest[1]
    if first_step <= 0 or second_step < 1.5 * first_step:
        return _hint("The waits don't grow exponentially: multiply by 2 ** attempt.")
    if all(len(set(samples[a])) == 1 for a in (1, 2, 3)):
        return _hint(
            "Every client would come back at the same moment: add jitter, e.g. random.uniform(0, delay)."
        )
    cap_text = (
        f"capped at {cap_value:g} s" if cap_value is not None else f"capped at about {highest[40]:.3g} s"
    )
    return _ok(f"Exponential, {cap_text}, with jitter.")


_ATTEMPT_PARAMS = ("max_attempts", "max_retries", "attempts", "retries", "max_tries", "tries")


def _call_with_timeout(fn: Callable[[], Any], seconds: float) -> tuple[bool, Any, BaseException | None]:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # the learner's code
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name="apicourse-check")
    thread.start()
    thread.join(seconds)
    return (not thread.is_alive(), box.get("value"), box.get("error"))


def _answer_ok(value: Any) -> bool:
    data = _json_of(value)
    if isinstance(data, Mapping) and "choices" in data:
        return True
    return hasattr(data, "choices")


def _source_lacks_timeout(fn: Callable[..., Any]) -> bool:
    try:
        source = inspect.getsource(inspect.unwrap(fn))
    except (OSError, TypeError):
        return False
    calls = re.search(r"\.(post|get|request|send)\(", source)
    return bool(calls) and not re.search(r"timeout\s*=", source)


@_todo
def check_retry_loop(call_with_backoff: Callable[..., Any], timeout: float = 20.0) -> Verdict:
    """A function ``(url, headers, data[, max_attempts])`` that POSTs ``data`` and backs off on 429.

    Tried against a practice API of its own: once when the first attempt is refused (it must wait
    as long as ``Retry-After`` says, then return the answer), once when every attempt is refused (it
    must give up after its attempts by raising). Takes about 3–5 seconds.
    """
    from apicourse import practice  # imported here: lessons 05-09 use other checks and never load it

    if _source_lacks_timeout(call_with_backoff):
        return _hint(
            "Every request needs a timeout: requests.post(url, ..., timeout=10). "
            "Without one a hung server hangs you."
        )
    try:
        params = inspect.signature(call_with_backoff).parameters
    except (TypeError, ValueError):
        params = {}
    attempts_param = next((p for p in _ATTEMPT_PARAMS if p in params), None)
    data = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Explain APIs in one sentence."}]}
    api = practice.start(rpm=1, window_seconds=1, replace=False, quiet=True, key=practice.new_key())
    try:
        url = f"{api.url}/v1/chat/completions"
        headers = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
        extra = {attempts_param: 4} if attempts_param else {}

        # 1. the window is full: the first attempt gets 429 + Retry-After, a later one succeeds
        import requests

        requests.post(url, headers=headers, json=data, timeout=5)
        before = len(api.seen)
        done, value, error = _call_with_timeout(
            lambda: call_with_backoff(url, headers, data, **extra), timeout
        )
        if not done:
            return _hint(
                f"It was still running after {timeout:.0f} s. Does the loop stop once a request succeeds?"
            )
        if error is not None:
            return _hint(
                f"It raised {type(error).__name__}: {str(error)[:150]} — "
                "the first attempt got a 429; wait and try again."
            )
        seen = [s for s in api.seen[before:] if s.path == "/v1/chat/completions"]
        if not _answer_ok(value):
            return _hint("Return the answer (response.json()) once a request succeeds.")
        if len(seen) < 2:
            return _hint("It never retried: the first attempt had a 429.")
        for earlier, later in zip(seen, seen[1:]):
            if earlier.status == 429 and later.at - earlier.at < 0.95:
                return _hint(
                    f"It retried {later.at - earlier.at:.2f} s after a 429 whose Retry-After said 1 s: "
                    "read response.headers['Retry-After'] and wait at least that long."
                )

        # 2. every attempt is refused: it must stop and raise
        api.configure(rpm=0)
        extra = {attempts_param: 2} if attempts_param else {}
        before = len(api.seen)
        done, value, error = _call_with_timeout(
            lambda: call_with_backoff(url, headers, data, **extra), timeout
        )
        tries = len([s for s in api.seen[before:] if s.path == "/v1/chat/completions"])
        if not done:
            return _hint(
                f"When every attempt is refused it never gives up ({tries} tries in {timeout:.0f} s): "
                "stop after max attempts."
            )
        limit = (extra.get(attempts_param, 10) + 1) if attempts_param else 10
        if tries > limit:
            return _hint(f"It made {tries} attempts when allowed {limit - 1}: count attempts and stop.")
        if error is None:
            return _hint(
                "When every attempt is refused it should raise an exception, so the caller knows it failed."
            )
    finally:
        api.stop()
    how = f"with {attempts_param}" if attempts_param else "with its own attempt limit"
    return _ok(
        f"It waited as Retry-After said, got the answer, and gave up {how} after {tries} refused attempts."
    )
