"""``/v1/files``: upload (multipart), list, fetch, download and delete files."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, Security, UploadFile

from apicourse.practice.bodies import DepthCheckedRoute
from apicourse.practice.errors import APIError
from apicourse.practice.openapi import AUTHENTICATED, errors, links_by_id, refusal, success
from apicourse.practice.ratelimit import rate_limited
from apicourse.practice.schemas import FileDeleted, FileList, FileObject, Purpose
from apicourse.practice.state import PracticeState, StateDep

router = APIRouter(prefix="/v1/files", tags=["files"], responses=AUTHENTICATED, route_class=DepthCheckedRoute)

CanRead = [Security(rate_limited, scopes=["files:read"])]
CanWrite = [Security(rate_limited, scopes=["files:write"])]
FILE_LINKS = {
    **links_by_id("file_id", "get_file", "get_file_content", "delete_file"),
    "create_job": {
        "operationId": "create_job",
        "requestBody": {"training_file": "$response.body#/id"},  # the rest of the body as you like
        "description": "A file uploaded with purpose `fine-tune` trains a job: its `id` → `training_file`.",
    },
}
NOT_FOUND = refusal(404, "Not Found: no file with this id.", "No such File object: file-999", "file_not_found", "id")


def find_file(state: PracticeState, file_id: str) -> dict[str, Any]:
    """The file's description, or 404 ``file_not_found``."""
    with state.lock:
        found = state.files.get(file_id)
    if found is None:
        raise APIError(404, f"No such File object: {file_id}", param="id", code="file_not_found")
    return found


@router.post(
    "",
    status_code=201,
    summary="Upload a file (multipart/form-data)",
    dependencies=CanWrite,
    response_model=FileObject,
    responses={
        **success(201, location=True, links=FILE_LINKS),
        **errors(422),
        **refusal(
            400,
            "Bad Request: the multipart body can't be read, or the file is empty.",
            "The file is empty: there is nothing to upload.",
            "empty_file",
            "file",
        ),
    },
)
async def upload_file(
    state: StateDep,
    response: Response,
    # the schema says what the server checks: an empty file is refused (400 empty_file)
    file: Annotated[UploadFile, File(description="the file's content (not empty)", json_schema_extra={"minLength": 1})],
    purpose: Annotated[Purpose, Form(description="what the file is for")],
) -> dict[str, Any]:
    """Store the file; answer 201 with its description and a ``Location`` header."""
    data = await file.read()
    if not data:
        raise APIError(400, "The file is empty: there is nothing to upload.", param="file", code="empty_file")
    file_id = state.next_id("file")
    obj = {
        "id": file_id,
        "object": "file",
        "bytes": len(data),
        "created_at": int(time.time()),
        "filename": file.filename or "upload",
        "purpose": purpose,
    }
    with state.lock:
        state.files[file_id] = obj
        state.file_bytes[file_id] = data
    response.headers["location"] = f"/v1/files/{file_id}"
    return obj


@router.get(
    "",
    summary="List files",
    dependencies=CanRead,
    response_model=FileList,
    responses={**success(), **errors(422)},  # FastAPI would otherwise add its own 422 shape
)
async def list_files(state: StateDep, purpose: str | None = None) -> dict[str, Any]:
    """Every file, or only those with one ``purpose`` (any text: an unknown one lists nothing)."""
    with state.lock:
        data = [f for f in state.files.values() if purpose is None or f["purpose"] == purpose]
    return {"object": "list", "data": data}


@router.get(
    "/{file_id}",
    summary="Get one file's description",
    dependencies=CanRead,
    response_model=FileObject,
    responses={**success(), **NOT_FOUND},
)
async def get_file(state: StateDep, file_id: str) -> dict[str, Any]:
    """The file's description (not its content)."""
    return find_file(state, file_id)


@router.get(
    "/{file_id}/content",
    summary="Download a file's content",
    dependencies=CanRead,
    response_class=Response,
    responses={
        200: {
            "description": "The file's bytes, as uploaded.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            **success()[200],
        },
        **NOT_FOUND,
    },
)
async def get_file_content(state: StateDep, file_id: str) -> Response:
    """The bytes you uploaded."""
    find_file(state, file_id)
    with state.lock:
        data = state.file_bytes[file_id]
    return Response(data, media_type="application/octet-stream")


@router.delete(
    "/{file_id}",
    summary="Delete a file",
    dependencies=CanWrite,
    response_model=FileDeleted,
    responses={
        **success(),
        **NOT_FOUND,
        **refusal(
            409,
            "Conflict: a queued fine-tuning job uses this file.",
            "File file-001 is in use by fine-tuning job ftjob-001: cancel or delete the job first.",
            "file_in_use",
            "id",
        ),
    },
)
async def delete_file(state: StateDep, file_id: str) -> dict[str, Any]:
    """Delete it (409 while a queued job still uses it)."""
    find_file(state, file_id)
    with state.lock:
        users = [j["id"] for j in state.jobs.values() if j["training_file"] == file_id and j["status"] == "queued"]
        if users:
            raise APIError(
                409,
                f"File {file_id} is in use by fine-tuning job {users[0]}: cancel or delete the job first.",
                param="id",
                code="file_in_use",
            )
        del state.files[file_id]
        state.file_bytes.pop(file_id, None)
    return {"id": file_id, "object": "file", "deleted": True}
