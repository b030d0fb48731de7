"""Instant checks for the lessons' exercises: ``exercises.check_…(answer)`` prints ``✓ …`` or ``✗ Not yet…``.

One module per part of the course, all re-exported here (``from apicourse import exercises`` is enough):

* :mod:`~apicourse.exercises.basics` — lessons 01–04 (HTTP, JSON, keys, rate limits) and :class:`Verdict`;
* :mod:`~apicourse.exercises.sandbox` — the local stand-in a provider check runs the learner's code against;
* :mod:`~apicourse.exercises.openai_calls` (05), :mod:`~apicourse.exercises.anthropic_calls` (06),
  :mod:`~apicourse.exercises.hf_calls` (07), :mod:`~apicourse.exercises.research_chain` (08),
  :mod:`~apicourse.exercises.resilience` (09) — checks that run the learner's own calls.
"""

# re-exported, so `exercises.check_…` works in every lesson
from apicourse.exercises.basics import *  # noqa: F403 - the checks of lessons 01-04, as before
from apicourse.exercises.basics import Verdict  # noqa: F401
from apicourse.exercises.openai_calls import check_ask_tutor, check_stream_answer, check_tool_loop  # noqa: F401
from apicourse.exercises.anthropic_calls import check_ask_claude, check_tool_round_trip  # noqa: F401
from apicourse.exercises.hf_calls import check_top_label  # noqa: F401
from apicourse.exercises.resilience import check_safe_api_call  # noqa: F401
from apicourse.exercises.research_chain import (  # noqa: F401
    check_extract_notes,
    check_extract_structured,
    check_research_topic,
    check_summarize,
)
