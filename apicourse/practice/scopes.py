"""Scopes: the dependency that lets a caller through only with the scope a route declares (else 403).

A route asks for its scope the way FastAPI's OAuth2-scopes guide shows, which also writes the scope
into the route's ``security`` in ``/openapi.json``::

    who: Annotated[Caller, Security(authorized, scopes=["files:write"])]

An API key holds every scope; an OAuth access token only those it was issued with.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import SecurityScopes

from apicourse.practice.auth import current_caller
from apicourse.practice.errors import APIError
from apicourse.practice.state import Caller


def missing_scope(needed: list[str], held: frozenset[str]) -> str | None:
    """The first scope in ``needed`` that ``held`` lacks, if any.

    >>> missing_scope(["files:write"], frozenset({"files:read"}))
    'files:write'
    >>> missing_scope(["files:read"], frozenset({"files:read"})) is None
    True
    """
    return next((scope for scope in needed if scope not in held), None)


def authorized(security_scopes: SecurityScopes, who: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """The caller, if it holds every scope the route asked for; else the 403 that names the missing one."""
    scope = missing_scope(security_scopes.scopes, who.scopes)
    if scope is not None:
        granted = " ".join(sorted(who.scopes)) or "(none)"
        raise APIError(
            403,
            f"You have insufficient permissions for this operation. Missing scope: {scope} "
            f"(this token has: {granted}).",
            "permission_error",
            code="insufficient_scope",
            headers={"www-authenticate": f'Bearer realm="practice", error="insufficient_scope", scope="{scope}"'},
        )
    return who
