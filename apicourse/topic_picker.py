"""The research assistant's widget: pick a provider, enter a topic, get structured notes.

Live (that provider's key is set) the topic is free text. In replay it is free text too, with the
topics in the notebook's cassette offered as suggestions: those replay their recordings, any other topic
is answered by the offline stand-in (:mod:`apicourse.sandbox`), labelled as such. With strict replay
(``APICOURSE_STRICT_REPLAY=1``) only the recorded topics have answers, so the widget offers exactly
those, in a dropdown, and says why::

    from apicourse.topic_picker import TopicPicker
    TopicPicker(course)          # shows itself in a notebook

:func:`recorded_topics` reads the cassette to find them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apicourse import research, sandbox
from apicourse.replay import provider_for_host

PREFIX = research.summary_prompt("")
"""Every step-1 request starts with this; the rest of the user message is the topic."""


def _topic_of(body: Any) -> str | None:
    try:
        data = json.loads(body) if isinstance(body, (str, bytes)) else body
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    for message in data.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str) and content.startswith(PREFIX):
            return content[len(PREFIX) :]
    return None


def recorded_topics(cassette_file: Path, provider: str) -> list[str]:
    """The topics whose research summary a cassette holds for ``provider``, in recording order.

    >>> recorded_topics(Path("no-such-cassette.yaml"), "openai")
    []
    """
    if not cassette_file.is_file():
        return []
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ~10× faster on big cassettes
    data = yaml.load(cassette_file.read_text(encoding="utf-8"), Loader=loader) or {}
    topics: list[str] = []
    for interaction in data.get("interactions") or []:
        request = interaction.get("request") or {}
        host = (request.get("uri") or "").split("/")[2] if "://" in (request.get("uri") or "") else ""
        found = provider_for_host(host)
        topic = _topic_of(request.get("body"))
        if found is not None and found.name == provider and topic and topic not in topics:
            topics.append(topic)
    return topics


class TopicPicker:
    """Provider buttons, a topic field (free text; recorded topics only under strict replay), a button, the result.

    ``run`` does the research (default :func:`apicourse.research.research_topic`); tests pass a fake.
    """

    def __init__(
        self,
        course: Any,
        *,
        run: Callable[[str, str], research.Research] | None = None,
        provider: str = "anthropic",
    ) -> None:
        import ipywidgets as w

        self.course = course
        self._run = run or (lambda topic, provider: research.research_topic(topic, provider))  # type: ignore[arg-type]
        self.provider_buttons = w.ToggleButtons(
            options=[("Anthropic", "anthropic"), ("OpenAI", "openai")], value=provider, description="Provider"
        )
        self.note = w.HTML()
        self.topic_box = w.Box()
        self.button = w.Button(description="Research", button_style="primary", icon="search")
        self.output = w.Output()
        self.provider_buttons.observe(lambda change: self._refresh(), names="value")
        self.button.on_click(lambda _: self.research())
        self._refresh()
        self.widget = w.VBox([self.provider_buttons, self.topic_box, self.note, self.button, self.output])

    @property
    def provider(self) -> str:
        return str(self.provider_buttons.value)

    @property
    def live(self) -> bool:
        return bool(self.course.is_live(self.provider))

    @property
    def topic(self) -> str:
        """The topic as entered or chosen (stripped)."""
        return str(self.topic_input.value or "").strip()

    def _refresh(self) -> None:
        import ipywidgets as w

        if self.live:
            self.topic_input: Any = w.Text(
                placeholder="e.g. solid-state batteries", description="Topic", layout=w.Layout(width="60%")
            )
            self.note.value = "<i>Live: any topic works. Each run makes 2–3 API calls on your key.</i>"
        elif not sandbox.strict():
            topics = recorded_topics(self.course.cassette_file, self.provider)
            self.topic_input = w.Combobox(
                options=topics, placeholder=topics[0] if topics else "any topic", description="Topic",
                ensure_option=False, layout=w.Layout(width="60%"),
            )  # fmt: skip
            self.note.value = (
                "<i>Offline: the suggested topics replay their recordings; any other topic is answered by the "
                "course's offline stand-in — labelled, not a model. Add a key to <code>.env</code> to go live.</i>"
            )
        else:
            topics = recorded_topics(self.course.cassette_file, self.provider)
            self.topic_input = w.Dropdown(options=topics, description="Topic", layout=w.Layout(width="60%"))
            self.note.value = (
                "<i>Strict replay: these are the topics recorded in this notebook's cassette. Any other topic "
                "would be a request with no recorded answer. Add a key to <code>.env</code> for free text.</i>"
            )
        self.topic_box.children = (self.topic_input,)

    def research(self) -> research.Research | None:
        """Run the chain on the current topic and show the result in the output area."""
        from IPython.display import Markdown, display

        self.output.clear_output()
        with self.output:
            if not self.topic:
                print("Enter a topic first.")
                return None
            print(f"Researching {self.topic!r} with {self.provider} …")
            result = self._run(self.topic, self.provider)
            self.output.clear_output()
            note = "" if result.attempts == 1 else f" (valid JSON after {result.attempts} replies)"
            display(Markdown(result.to_markdown() + f"\n*{self.provider}{note}*"))
            return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
