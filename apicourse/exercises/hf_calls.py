"""Checks for lesson 07's exercise: a Hugging Face helper of the learner's own, run in the sandbox.

    >>> from apicourse import models
    >>> def top_label(client, text):
    ...     result = client.text_classification(text, model=models.hf_classify())
    ...     return max(result, key=lambda item: item.score).label
    >>> v = check_top_label(top_label)
    ✓ It classifies the text it is given and returns the most likely label (POSITIVE, then NEGATIVE).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apicourse.exercises.basics import Verdict, _hint, _ok
from apicourse.exercises.openai_calls import failed_run
from apicourse.exercises.sandbox import Sandbox, describe, run

# The check's own scores (the real classifier's are similar); most likely first, as the API sends them.
SENTENCES = {
    "The course explained everything clearly.": [("POSITIVE", 0.9981), ("NEGATIVE", 0.0019)],
    "The delivery was late again and nobody answered.": [("NEGATIVE", 0.9968), ("POSITIVE", 0.0032)],
}


def check_top_label(top_label: Callable[[Any, str], Any]) -> Verdict:
    """``top_label(client, text)`` classifies ``text`` and returns the most likely label, e.g. ``"POSITIVE"``.

    Tried on a positive and a negative sentence, so a fixed answer can't pass.
    """
    answers = [
        {"match": text, "api": "hf.text-classification", "labels": [{"label": l, "score": s} for l, s in scores]}
        for text, scores in SENTENCES.items()
    ]
    with Sandbox(answers) as box, box.huggingface() as client:
        for text, scores in SENTENCES.items():
            before = len(box.sent)
            outcome = run(top_label, client, text)
            classified = [s for s in box.sent[before:] if s.method == "POST" and "/models/" in s.path]
            if outcome.error is not None and not classified:
                return _hint(
                    f"top_label raised {type(outcome.error).__name__} before anything was classified: "
                    "name the model to ask (the lesson keeps it in apicourse.models)."
                )
            if (hint := failed_run(outcome, "top_label")) is not None:
                return hint
            value = outcome.value
            if not classified:
                if value is None:
                    return _hint("top_label sends nothing yet: write its body (the call is in the lesson above).")
                return _hint(f"top_label returned {describe(value)} without classifying the text it was given.")
            if not any((s.body or {}).get("inputs") == text for s in classified):
                return _hint(f"It didn't classify the text it was given (the check gave it {text!r}).")
            label, score = scores[0]
            if value == label:
                continue
            if isinstance(value, list):
                return _hint("top_label returns the whole list; pick the one item you need, and return its label.")
            if hasattr(value, "label"):
                return _hint("top_label returns a whole item (label and score); return just its label.")
            if value == score:
                return _hint("That's the score of the most likely label; return the label itself.")
            if isinstance(value, str) and value.upper() == label:
                return _hint(f"Return the label exactly as the API spells it ({label}).")
            return _hint(f"For {text!r} it returned {describe(value)}; the most likely label is another one.")
    return _ok("It classifies the text it is given and returns the most likely label (POSITIVE, then NEGATIVE).")
