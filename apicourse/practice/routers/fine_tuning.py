"""``/v1/fine_tuning/jobs``: create, list, fetch, change (PATCH), replace (PUT), cancel and delete jobs."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response, Security

from apicourse.practice.bodies import DepthCheckedRoute
from apicourse.practice.config import MODELS
from apicourse.practice.errors import APIError
from apicourse.practice.openapi import AUTHENTICATED, errors, links_by_id, refusal, success
from apicourse.practice.ratelimit import rate_limited
from apicourse.practice.schemas import Job, JobCreate, JobList, JobPatch, JobPut
from apicourse.practice.state import PracticeState, StateDep

router = APIRouter(prefix="/v1/fine_tuning/jobs", tags=["fine-tuning"], responses=AUTHENTICATED, route_class=DepthCheckedRoute)

CanRead = [Security(rate_limited, scopes=["fine_tuning:read"])]
CanWrite = [Security(rate_limited, scopes=["fine_tuning:write"])]
NO_JOB = refusal(404, "Not Found: no job with this id.", "No such fine-tuning job: ftjob-999", "job_not_found", "id")
BAD_BODY = {
    **errors(422),
    **refusal(
        400,
        "Bad Request: broken JSON, or `training_file` is not the id of a `fine-tune` file of yours.",
        "Invalid training_file: no file with id file-999.",
        "invalid_training_file",
        "training_file",
    ),
}
NO_MODEL = refusal(404, "Not Found: no such model.", "The model 'gpt-99' does not exist.", "model_not_found", "model")
JOB_LINKS = links_by_id("job_id", "get_job", "patch_job", "put_job", "cancel_job", "delete_job")


def find_job(state: PracticeState, job_id: str) -> dict[str, Any]:
    """The job, or 404 ``job_not_found``."""
    with state.lock:
        found = state.jobs.get(job_id)
    if found is None:
        raise APIError(404, f"No such fine-tuning job: {job_id}", param="id", code="job_not_found")
    return found


def check_job_inputs(state: PracticeState, model: str, training_file: str) -> None:
    """404 for an unknown model; 400 ``invalid_training_file`` for a file that is missing or not for fine-tuning.

    OpenAI answers a missing file with 400 ``invalid training_file: <id>``, not 404, and so does this.
    """
    if model not in MODELS:
        raise APIError(404, f"The model '{model}' does not exist.", param="model", code="model_not_found")
    with state.lock:
        f = state.files.get(training_file)
    if f is None:
        raise APIError(
            400,
            f"Invalid training_file: no file with id {training_file}.",
            param="training_file",
            code="invalid_training_file",
        )
    if f["purpose"] != "fine-tune":
        raise APIError(
            400,
            f"File {training_file} was uploaded with purpose '{f['purpose']}', not 'fine-tune'.",
            param="training_file",
            code="invalid_training_file",
        )


@router.post(
    "",
    status_code=201,
    summary="Create a fine-tuning job",
    dependencies=CanWrite,
    response_model=Job,
    responses={**success(201, location=True, links=JOB_LINKS), **BAD_BODY, **NO_MODEL},
)
async def create_job(state: StateDep, body: JobCreate, response: Response) -> dict[str, Any]:
    """A new queued job (201, with ``Location``)."""
    check_job_inputs(state, body.model, body.training_file)
    job_id = state.next_id("ftjob")
    job = {
        "id": job_id,
        "object": "fine_tuning.job",
        "model": body.model,
        "created_at": int(time.time()),
        "status": "queued",
        "training_file": body.training_file,
        "suffix": body.suffix,
        "metadata": dict(body.metadata or {}),
        "fine_tuned_model": None,
        "finished_at": None,
    }
    with state.lock:
        state.jobs[job_id] = job
    response.headers["location"] = f"/v1/fine_tuning/jobs/{job_id}"
    return job


@router.get("", summary="List fine-tuning jobs", dependencies=CanRead, response_model=JobList, responses=success())
async def list_jobs(state: StateDep) -> dict[str, Any]:
    """Every job, in ``data``."""
    with state.lock:
        return {"object": "list", "data": list(state.jobs.values())}


@router.get(
    "/{job_id}",
    summary="Get one fine-tuning job",
    dependencies=CanRead,
    response_model=Job,
    responses={**success(), **NO_JOB},
)
async def get_job(state: StateDep, job_id: str) -> dict[str, Any]:
    """One job."""
    return find_job(state, job_id)


@router.patch(
    "/{job_id}",
    summary="Change some of a job's fields",
    dependencies=CanWrite,
    response_model=Job,
    responses={**success(), **NO_JOB, **errors(400, 422)},
)
async def patch_job(state: StateDep, job_id: str, body: JobPatch) -> dict[str, Any]:
    """Change only the fields sent; in ``metadata`` a ``null`` removes the key."""
    job = find_job(state, job_id)
    sent = body.model_fields_set
    with state.lock:
        if "metadata" in sent and body.metadata is not None:
            for k, v in body.metadata.items():
                if v is None:
                    job["metadata"].pop(k, None)
                else:
                    job["metadata"][k] = v
        elif "metadata" in sent:
            job["metadata"] = {}
        if "suffix" in sent:
            job["suffix"] = body.suffix
    return job


@router.put(
    "/{job_id}",
    summary="Replace a job's settings",
    dependencies=CanWrite,
    response_model=Job,
    responses={
        **success(),
        **BAD_BODY,
        404: {**NO_JOB[404], "description": "Not Found: no job with this id, or no such model."},
        **refusal(
            409,
            "Conflict: only a queued job can be replaced.",
            "Job ftjob-001 is cancelled: only a queued job can be replaced.",
            "job_not_queued",
        ),
    },
)
async def put_job(state: StateDep, job_id: str, body: JobPut) -> dict[str, Any]:
    """Replace the whole settings of a queued job (409 once it is cancelled)."""
    job = find_job(state, job_id)
    if job["status"] != "queued":
        message = f"Job {job_id} is {job['status']}: only a queued job can be replaced."
        raise APIError(409, message, code="job_not_queued")
    check_job_inputs(state, body.model, body.training_file)
    with state.lock:
        job.update(model=body.model, training_file=body.training_file, suffix=body.suffix, metadata=dict(body.metadata))
    return job


@router.post(
    "/{job_id}/cancel",
    summary="Cancel a job",
    dependencies=CanWrite,
    response_model=Job,
    responses={
        **success(),
        **NO_JOB,
        **refusal(409, "Conflict: already cancelled.", "Job ftjob-001 is already cancelled.", "job_already_cancelled"),
    },
)
async def cancel_job(state: StateDep, job_id: str) -> dict[str, Any]:
    """Cancel it (twice → 409)."""
    job = find_job(state, job_id)
    with state.lock:
        if job["status"] == "cancelled":
            raise APIError(409, f"Job {job_id} is already cancelled.", code="job_already_cancelled")
        job["status"], job["finished_at"] = "cancelled", int(time.time())
    return job


@router.delete(
    "/{job_id}",
    status_code=204,
    summary="Delete a job",
    dependencies=CanWrite,
    response_class=Response,
    responses={**success(204), **NO_JOB},
)
async def delete_job(state: StateDep, job_id: str) -> Response:
    """Delete it: 204 No Content, an empty body."""
    find_job(state, job_id)
    with state.lock:
        state.jobs.pop(job_id, None)
    return Response(status_code=204)
