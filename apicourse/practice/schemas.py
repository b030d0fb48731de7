"""The bodies the practice API reads and writes, as Pydantic models: FastAPI validates requests with them
and writes them, with their examples, into ``/openapi.json``.

Request bodies are strict (no type coercion, no unknown fields), like the provider's::

    >>> ChatRequest.model_validate({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}).model
    'gpt-4o'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Purpose = Literal["fine-tune", "assistants", "batch", "user_data"]
JobStatus = Literal["queued", "cancelled"]
Metadata = dict[str, str | None]

CHAT_EXAMPLE = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}
FILE_EXAMPLE = {
    "id": "file-001",
    "object": "file",
    "bytes": 52,
    "created_at": 1764633600,
    "filename": "train.jsonl",
    "purpose": "fine-tune",
}
JOB_EXAMPLE = {
    "id": "ftjob-001",
    "object": "fine_tuning.job",
    "model": "gpt-4o-mini",
    "created_at": 1764633600,
    "status": "queued",
    "training_file": "file-001",
    "suffix": None,
    "metadata": {"project": "demo"},
    "fine_tuned_model": None,
    "finished_at": None,
}


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# ---------------------------------------------------------------- requests


class ChatMessage(_Strict):
    """One message of a conversation."""

    model_config = ConfigDict(strict=True, extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str


class ChatRequest(_Strict):
    """The body of ``POST /v1/chat/completions`` (the fields the course text uses)."""

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra={"examples": [CHAT_EXAMPLE]})
    model: str = Field(description="One of `GET /v1/models`; another name gets 404 `model_not_found`.")
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, description="Cut the answer after this many tokens.")
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: str | None = None
    metadata: dict[str, str] | None = None


class JobCreate(_Strict):
    """The body of ``POST /v1/fine_tuning/jobs``."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"model": "gpt-4o-mini", "training_file": "file-001"}]},
    )
    model: str
    training_file: str = Field(
        description="The id of a file you uploaded with purpose `fine-tune`; any other id gets 400 "
        "`invalid_training_file` (as OpenAI answers)."
    )
    suffix: str | None = Field(default=None, max_length=64)
    metadata: dict[str, str] | None = None


class JobPatch(_Strict):
    """The body of ``PATCH /v1/fine_tuning/jobs/ID``: only the fields you send change.
    In ``metadata``, a key set to ``null`` is removed."""

    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [{"metadata": {"owner": "me", "project": None}}]}
    )
    metadata: Metadata | None = None
    suffix: str | None = Field(default=None, max_length=64)


class JobPut(_Strict):
    """The body of ``PUT /v1/fine_tuning/jobs/ID``: the job's whole settings, every field required."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"model": "gpt-4o", "training_file": "file-001", "suffix": "v2", "metadata": {"owner": "me"}}]
        },
    )
    model: str
    training_file: str = Field(description="As for creating a job: a `fine-tune` file of yours, else 400.")
    suffix: str | None = Field(max_length=64)
    metadata: dict[str, str]


class TokenRequest(BaseModel):
    """The form of ``POST /oauth/token`` (RFC 6749 §4.4.2). Send the client's id and secret with HTTP
    Basic auth, or as ``client_id`` and ``client_secret`` in this form."""

    grant_type: Literal["client_credentials"]
    scope: str | None = Field(
        default=None, description="Space-separated scopes; leave out for all the client may have."
    )
    client_id: str | None = None
    client_secret: str | None = None


# ---------------------------------------------------------------- responses


class Status(BaseModel):
    """``GET /v1/status``."""

    status: Literal["ok"]
    time: int = Field(description="The server's clock, Unix seconds.")


class ModelObject(BaseModel):
    """One model."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "gpt-4o", "object": "model", "created": 1700000000, "owned_by": "apicourse-practice"}]
        }
    )
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"]
    data: list[ModelObject]


class FileObject(BaseModel):
    """An uploaded file's description."""

    model_config = ConfigDict(json_schema_extra={"examples": [FILE_EXAMPLE]})
    id: str
    object: Literal["file"]
    bytes: int = Field(ge=1)
    created_at: int
    filename: str
    purpose: Purpose


class FileList(BaseModel):
    """``GET /v1/files``."""

    object: Literal["list"]
    data: list[FileObject]


class FileDeleted(BaseModel):
    """``DELETE /v1/files/ID`` (OpenAI confirms a deletion with a small body, not 204)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "file-001", "object": "file", "deleted": True}]})
    id: str
    object: Literal["file"]
    deleted: Literal[True]


class Job(BaseModel):
    """A fine-tuning job (the practice API never trains: a job stays queued until cancelled)."""

    model_config = ConfigDict(json_schema_extra={"examples": [JOB_EXAMPLE]})
    id: str
    object: Literal["fine_tuning.job"]
    model: str
    created_at: int
    status: JobStatus
    training_file: str
    suffix: str | None
    metadata: dict[str, str]
    fine_tuned_model: str | None
    finished_at: int | None


class JobList(BaseModel):
    """``GET /v1/fine_tuning/jobs``."""

    object: Literal["list"]
    data: list[Job]


class AssistantMessage(BaseModel):
    """The practice model's answer."""

    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    """One answer; ``finish_reason`` is ``length`` when ``max_tokens`` cut it short."""

    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]


class Usage(BaseModel):
    """Tokens counted against your tokens-per-minute limit."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """``POST /v1/chat/completions``: OpenAI's shape, with an echo for an answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "chatcmpl-001",
                    "object": "chat.completion",
                    "created": 1764633600,
                    "model": "gpt-4o",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": 'You said: "Hello!" (the practice API echoes; a real model would answer)',
                            },
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 2, "completion_tokens": 16, "total_tokens": 18},
                }
            ]
        }
    )
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class TokenResponse(BaseModel):
    """An OAuth 2.0 access token (RFC 6749 §5.1)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "pat-…",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "scope": "models:read files:read",
                }
            ]
        }
    )
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=1, description="Seconds until the token expires.")
    scope: str = Field(description="The scopes granted, space-separated.")
