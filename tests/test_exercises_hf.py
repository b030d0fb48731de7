"""Lesson 07's check runs the learner's Hugging Face helper in the sandbox."""

from __future__ import annotations

import pytest

from apicourse import exercises as ex
from apicourse import models


def by_max(client, text):
    result = client.text_classification(text, model=models.hf_classify())
    return max(result, key=lambda item: item.score).label


def by_first(client, text):
    return client.text_classification(text, model=models.hf_classify(), top_k=2)[0].label


def by_sorting(client, text):
    scores = {item.label: item.score for item in client.text_classification(text, model=models.hf_classify())}
    return sorted(scores, key=scores.get, reverse=True)[0]


@pytest.mark.parametrize("answer", [by_max, by_first, by_sorting])
def test_top_label_accepts_right_answers(answer):
    assert ex.check_top_label(answer)


def _classify(client, text):
    return client.text_classification(text, model=models.hf_classify())


def _blank(client, text): ...


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_blank, "sends nothing yet"),
        (lambda c, t: "POSITIVE", "without classifying"),
        (lambda c, t: _classify(c, "I love it")[0].label, "didn't classify the text it was given"),
        (lambda c, t: c.text_classification(t)[0].label, "name the model"),
        (_classify, "whole list"),
        (lambda c, t: _classify(c, t)[0], "whole item"),
        (lambda c, t: _classify(c, t)[0].score, "score of the most likely"),
        (lambda c, t: _classify(c, t)[0].label.lower(), "exactly as the API spells it"),
        (lambda c, t: _classify(c, t)[-1].label, "the most likely label is another one"),
        (lambda c, t: min(_classify(c, t), key=lambda i: i.score).label, "the most likely label is another one"),
    ],
)
def test_top_label_rejects_wrong_answers(answer, hint):
    verdict = ex.check_top_label(answer)
    assert not verdict
    assert hint in verdict.message
