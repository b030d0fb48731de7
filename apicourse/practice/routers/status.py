"""``GET /v1/status``: is the API up? The one route that needs no key."""

from __future__ import annotations

import time

from fastapi import APIRouter

from apicourse.practice.bodies import DepthCheckedRoute
from apicourse.practice.openapi import errors
from apicourse.practice.schemas import Status

router = APIRouter(prefix="/v1/status", tags=["status"], responses=errors(413), route_class=DepthCheckedRoute)


@router.get("", summary="Is the API up? (no key needed)")
async def status() -> Status:
    """``{"status": "ok", "time": <unix seconds>}``."""
    return Status(status="ok", time=int(time.time()))
