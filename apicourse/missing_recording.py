"""The error of a replayed call the cassette has no recording for (:class:`MissingRecording`).

Its own module because it subclasses vcrpy's error, and importing vcrpy imports every HTTP library it
patches (requests, httpx, ...; about 13 MB in a kernel): :mod:`apicourse.replay` loads it only once a
lesson's replay has begun, and ``from apicourse.replay import MissingRecording`` still works::

    >>> from apicourse.replay import MissingRecording
    >>> issubclass(MissingRecording, Exception)
    True
"""

from __future__ import annotations

from typing import Any

from vcr.errors import CannotOverwriteExistingCassetteException

from apicourse import replay


class MissingRecording(CannotOverwriteExistingCassetteException):
    """A request in replay mode that the notebook's cassette has no answer for.

    Raised in place of vcrpy's ``CannotOverwriteExistingCassetteException`` (it is a subclass of it,
    so code that catches vcrpy's error still works), with a message that says which notebook,
    which cassette and which request, and the two ways to fix it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.cassette = kwargs.get("cassette")
        self.failed_request = kwargs.get("failed_request")
        reason = ""
        if self.cassette is not None and self.failed_request is not None:
            try:
                from vcr.errors import _message, _reason  # vcrpy's own diagnosis of the mismatch

                similar = self.cassette.find_requests_with_most_matches(self.failed_request)
                reason = _message(self.cassette, self.failed_request, similar, _reason(self.cassette, similar))
            except Exception:  # the diagnosis is a bonus; never hide the main message
                reason = ""
        self.similar_requests = []
        self.reason = "no_match"
        Exception.__init__(self, replay.missing_recording_message(self.cassette, self.failed_request, reason))


def install() -> None:
    """Make vcrpy raise :class:`MissingRecording` (a subclass of its own error)."""
    import vcr.stubs
    import vcr.stubs.httpx_stubs

    vcr.stubs.CannotOverwriteExistingCassetteException = MissingRecording  # type: ignore[attr-defined]
    vcr.stubs.httpx_stubs.CannotOverwriteExistingCassetteException = MissingRecording  # type: ignore[attr-defined]
