"""Helpers for the *Working with APIs* course.

Every lesson starts with one line::

    import apicourse; course = apicourse.start("05_openai")

which decides, per provider, whether calls go live (you have that provider's key) or replay
from ``cassettes/`` (you don't), and shows a small banner saying which.

One module per concept; open the one a lesson names:

=====================  ==========================================================================
course plumbing        ``replay`` (live / replay / record), ``paths``, ``models`` (every model name),
                       ``navigation`` (lesson links), ``record`` (re-record cassettes), ``recording``
                       (what recording scrubs), ``standin/`` (the local server the shipped cassettes
                       were recorded against), ``pacing`` (replayed streams arrive at a readable
                       pace), ``guard`` (nothing leaves 127.0.0.1 in the tests, nor a lesson's first
                       call before replay begins), ``secrets`` (the key scanner), ``colab`` (a
                       lesson's first cell on Google Colab), ``missing_recording`` (replay's error),
                       ``kernel`` (the learner's Jupyter kernel, without the debugger)
lessons 01–04          ``practice`` (the practice API), ``widgets`` (request builder, backoff
                       timeline), ``backoff`` (delays, jitter, Retry-After), ``exercises`` (checks)
lessons 05–07          ``live_errors`` (what a live 401/402/404/429/5xx/529 means and its fix)
lesson 08              ``research`` (the validated two-step chain), ``topic_picker`` (its widget)
lesson 09              ``retries``, ``timeouts``, ``call_log``, ``costs``, ``caching``, ``batching``,
                       ``stream_timing``, ``checklist``
the assessment         ``grading`` (self-grading and the class command), ``ledger`` (every attempt,
                       the best score, the certificate)
=====================  ==========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apicourse.replay import Session, start

__all__ = ["Session", "start"]


def __getattr__(name: str) -> Any:
    # imported on first use, so that `import apicourse.grading` does not pay for vcrpy
    if name in __all__:
        from apicourse import replay

        return getattr(replay, name)
    raise AttributeError(f"module 'apicourse' has no attribute {name!r}")
