"""Two interactive controls: a request builder (lesson 01 and after) and a backoff timeline (lesson 04).

The work is done by plain functions — :func:`perform_request`, :func:`parse_headers`,
:func:`plot_timeline` — that the tests call directly; the widgets only wire them to buttons.

Stable CSS classes, for a browser test to find the parts:

=============================  ===================================================
``apicourse-request-builder``  the request builder's box
``apicourse-rb-method``        its method dropdown
``apicourse-rb-url``           URL text field
``apicourse-rb-headers``       headers text area (``Name: value`` lines)
``apicourse-rb-body``          JSON body text area
``apicourse-rb-send``          the Send button
``apicourse-rb-status``        status line (HTML), e.g. ``200 OK · 3 ms``
``apicourse-rb-response``      response headers and pretty JSON (HTML ``<pre>``)
``apicourse-backoff``          the backoff explorer's box
``apicourse-backoff-base``     base delay slider
``apicourse-backoff-retries``  retries slider
``apicourse-backoff-jitter``   jitter choice (none / full / equal)
``apicourse-backoff-cap``      cap slider
``apicourse-backoff-redraw``   button: draw new random jitter
``apicourse-backoff-summary``  one-line summary (HTML), e.g. ``5 retries · 6.2 s of waiting``
``apicourse-backoff-plot``     the timeline picture (a PNG Image widget)
=============================  ===================================================
"""

from __future__ import annotations

import html
import io
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apicourse.backoff import JITTERS, Step, timeline, total_wait

METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")


# --------------------------------------------------------------------------- request builder: logic


def parse_headers(text: str) -> dict[str, str]:
    """Headers typed as ``Name: value`` lines (or as a JSON object) → a dict.

    >>> parse_headers("Authorization: Bearer abc\\nAccept: application/json")
    {'Authorization': 'Bearer abc', 'Accept': 'application/json'}
    >>> parse_headers('{"X-Demo": "1"}')
    {'X-Demo': '1'}
    >>> parse_headers("")
    {}
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("headers as JSON must be an object")
        return {str(k): str(v) for k, v in data.items()}
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header line {number} should look like 'Name: value', not {line!r}")
        headers[name.strip()] = value.strip()
    return headers


def format_headers(headers: Mapping[str, str]) -> str:
    """A dict of headers → ``Name: value`` lines (what the headers box shows).

    >>> format_headers({"Accept": "application/json"})
    'Accept: application/json'
    """
    return "\n".join(f"{k}: {v}" for k, v in headers.items())


@dataclass
class Exchange:
    """One request and its answer, as the request builder shows them."""

    method: str
    url: str
    status: int | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # parsed JSON, or text
    is_json: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None  # set when no answer came back (or the request could not be built)
    note: str | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status is not None and 200 <= self.status < 300

    def status_line(self) -> str:
        """``200 OK · 3 ms``, or the error.

        >>> Exchange("GET", "http://x", status=404, reason="Not Found", elapsed_ms=2.4).status_line()
        '404 Not Found · 2 ms'
        """
        if self.status is None:
            return f"no answer: {self.error}"
        return f"{self.status} {self.reason} · {self.elapsed_ms:.0f} ms"

    def pretty_body(self) -> str:
        """The body as indented JSON (or as the text it was)."""
        if self.is_json:
            return json.dumps(self.body, indent=2, ensure_ascii=False)
        return "" if self.body is None else str(self.body)


def perform_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | str | None = None,
    body: str | Any | None = None,
    timeout: float = 10.0,
) -> Exchange:
    """Send one request with ``requests`` and describe what came back. Never raises.

    ``headers`` is a dict or ``Name: value`` text; ``body`` is JSON text, a Python object (sent as
    JSON) or empty. A body that is not valid JSON is sent exactly as typed, so you can see what a
    server says about a malformed body.

    >>> from apicourse import practice
    >>> api = practice.start(quiet=True)
    >>> perform_request("GET", f"{api.url}/v1/models", api.headers).status
    200
    >>> perform_request("GET", f"{api.url}/v1/models").body["error"]["code"]
    'missing_api_key'
    >>> api.stop()
    """
    import requests

    method = method.strip().upper()
    exchange = Exchange(method=method, url=url.strip())
    try:
        sent_headers = parse_headers(headers) if isinstance(headers, str) else dict(headers or {})
    except ValueError as exc:
        exchange.error = f"could not read the headers: {exc}"
        return exchange
    data: bytes | None = None
    if isinstance(body, str):
        if body.strip():
            data = body.encode()
            try:
                json.loads(body)
            except ValueError:
                exchange.note = "the body is not valid JSON; it was sent exactly as typed"
    elif body is not None:
        data = json.dumps(body).encode()
    if data is not None and not any(k.lower() == "content-type" for k in sent_headers):
        sent_headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    try:
        response = requests.request(method, exchange.url, headers=sent_headers, data=data, timeout=timeout)
    except requests.RequestException as exc:
        exchange.error = f"{type(exc).__name__}: {exc}"
        return exchange
    exchange.elapsed_ms = (time.perf_counter() - started) * 1000
    exchange.status, exchange.reason = response.status_code, response.reason
    exchange.headers = dict(response.headers)
    if response.content:
        try:
            exchange.body, exchange.is_json = response.json(), True
        except ValueError:
            exchange.body = response.text
    return exchange


def exchange_html(exchange: Exchange) -> str:
    """The response part of the request builder as HTML: headers, then the pretty body."""
    parts = []
    if exchange.note:
        parts.append(f"<div><i>{html.escape(exchange.note)}</i></div>")
    if exchange.status is not None:
        head = "\n".join(f"{k}: {v}" for k, v in exchange.headers.items())
        parts.append(
            f"<details><summary>response headers ({len(exchange.headers)})</summary>"
            f"<pre>{html.escape(head)}</pre></details>"
        )
        parts.append(f"<pre>{html.escape(exchange.pretty_body()) or '(empty body)'}</pre>")
    return "".join(parts)


def status_html(exchange: Exchange) -> str:
    """The status line, coloured by class of status (2xx green, 4xx orange, 5xx / none red)."""
    if exchange.status is None:
        colour = "#b00020"
    elif exchange.status < 300:
        colour = "#1b7f3b"
    elif exchange.status < 500:
        colour = "#b45f06"
    else:
        colour = "#b00020"
    return f'<b style="color:{colour}">{html.escape(exchange.status_line())}</b>'


# --------------------------------------------------------------------------- request builder: widget


class RequestBuilder:
    """Method, URL, headers, JSON body → Send → status, headers and pretty JSON.

    >>> rb = RequestBuilder(url="http://127.0.0.1:9/v1/models")   # doctest: +SKIP
    >>> rb                                                           # doctest: +SKIP

    ``rb.send()`` does what the button does and returns the :class:`Exchange`; ``rb.last`` keeps it.
    """

    def __init__(
        self,
        method: str = "GET",
        url: str = "",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        timeout: float = 10.0,
    ) -> None:
        import ipywidgets as w

        self.timeout = timeout
        self.last: Exchange | None = None
        self.method = w.Dropdown(options=METHODS, value=method.upper(), layout=w.Layout(width="110px"))
        self.url = w.Text(value=url, placeholder="http://127.0.0.1:…/v1/models", layout=w.Layout(flex="1"))
        self.send_button = w.Button(description="Send", button_style="primary", icon="paper-plane")
        self.headers = w.Textarea(
            value=format_headers(headers or {}),
            placeholder="Name: value (one per line)",
            description="Headers",
            layout=w.Layout(width="100%", height="70px"),
        )
        body_text = body if isinstance(body, str) else ("" if body is None else json.dumps(body, indent=2))
        self.body = w.Textarea(
            value=body_text,
            placeholder='{"key": "value"}',
            description="Body",
            layout=w.Layout(width="100%", height="110px"),
        )
        self.status = w.HTML(value="<i>not sent yet</i>")
        self.response = w.HTML(value="")
        for part, name in (
            (self.method, "method"),
            (self.url, "url"),
            (self.headers, "headers"),
            (self.body, "body"),
            (self.send_button, "send"),
            (self.status, "status"),
            (self.response, "response"),
        ):
            part.add_class(f"apicourse-rb-{name}")
        self.send_button.on_click(lambda _button: self.send())
        self.box = w.VBox(
            [
                w.HBox([self.method, self.url, self.send_button]),
                self.headers,
                self.body,
                self.status,
                self.response,
            ]
        )
        self.box.add_class("apicourse-request-builder")

    def send(self) -> Exchange:
        """Send what the form holds; show and return the result."""
        self.send_button.disabled = True
        self.status.value = "<i>sending…</i>"
        try:
            body = self.body.value if self.method.value != "GET" or self.body.value.strip() else None
            exchange = perform_request(
                self.method.value, self.url.value, self.headers.value, body, self.timeout
            )
        finally:
            self.send_button.disabled = False
        self.last = exchange
        self.status.value = status_html(exchange)
        self.response.value = exchange_html(exchange)
        return exchange

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)


def request_builder(
    api: Any = None, path: str = "/v1/models", method: str = "GET", body: Any = None
) -> RequestBuilder:
    """A request builder aimed at the practice API (its URL and key filled in).

    >>> from apicourse import practice
    >>> api = practice.start(quiet=True)
    >>> rb = request_builder(api)
    >>> rb.send().status
    200
    >>> api.stop()
    """
    if api is None:
        from apicourse import practice

        api = practice.current()
    url = f"{api.url}{path}" if api is not None else path
    headers = dict(api.headers) if api is not None else {}
    return RequestBuilder(method=method, url=url, headers=headers, body=body)


# --------------------------------------------------------------------------- backoff timeline


def plot_timeline(steps: list[Step], ax: Any = None, title: str | None = None) -> Any:
    """Draw attempts (bars: red refused, green answered) and waits (grey) on a time axis.

    Returns the matplotlib Figure (made without pyplot, so nothing piles up in a notebook).

    >>> fig = plot_timeline(timeline(retries=3, jitter="none"))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]      # bottom to top
    ['attempt 4', 'attempt 3', 'attempt 2', 'attempt 1']
    """
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(7.5, 0.45 * len(steps) + 1.2), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for i, step in enumerate(steps):
        y = len(steps) - 1 - i
        ax.barh(
            y,
            max(step.duration, 0.02),
            left=step.start,
            color="#2e9d55" if step.succeeded else "#d1495b",
            height=0.6,
        )
        if step.wait:
            ax.barh(y, step.wait, left=step.end, color="#bbbbbb", height=0.25)
            ax.text(
                step.end + step.wait / 2,
                y + 0.32,
                f"wait {step.wait:.2f}s",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_yticks(range(len(steps)), [f"attempt {s.attempt}" for s in reversed(steps)])
    ax.set_xlabel("seconds since the first attempt")
    ax.set_xlim(left=0)
    ax.set_ylim(-0.6, len(steps) - 0.1)
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def figure_png(fig: Any) -> bytes:
    """A matplotlib Figure as PNG bytes.

    >>> figure_png(plot_timeline(timeline(retries=1)))[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def timeline_summary(steps: list[Step]) -> str:
    """One line about a timeline.

    >>> timeline_summary(timeline(base=1, retries=3, jitter="none"))
    '4 attempts · 7.00 s of waiting · gave up at 7.80 s'
    """
    verdict = "answered" if steps and steps[-1].succeeded else "gave up"
    end = steps[-1].end if steps else 0.0
    return f"{len(steps)} attempts · {total_wait(steps):.2f} s of waiting · {verdict} at {end:.2f} s"


class BackoffExplorer:
    """Sliders for base delay, retries, jitter and cap → the timeline of attempts and waits.

    ``explorer.draw()`` recomputes (the controls call it); ``explorer.steps`` holds the timeline shown.
    """

    def __init__(
        self, base: float = 0.5, retries: int = 5, jitter: str = "full", cap: float = 8.0, seed: int = 0
    ) -> None:
        import ipywidgets as w

        self.seed = seed
        self.steps: list[Step] = []
        style = {"description_width": "90px"}
        self.base = w.FloatSlider(
            value=base, min=0.1, max=4.0, step=0.1, description="base delay (s)", style=style
        )
        self.retries = w.IntSlider(value=retries, min=0, max=10, description="retries", style=style)
        self.jitter = w.ToggleButtons(options=JITTERS, value=jitter, description="jitter", style=style)
        self.cap = w.FloatSlider(value=cap, min=0.5, max=30.0, step=0.5, description="cap (s)", style=style)
        self.redraw = w.Button(description="new random draw", icon="refresh")
        self.summary = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(max_width="720px"))
        for part, name in (
            (self.base, "base"),
            (self.retries, "retries"),
            (self.jitter, "jitter"),
            (self.cap, "cap"),
            (self.redraw, "redraw"),
            (self.summary, "summary"),
            (self.plot, "plot"),
        ):
            part.add_class(f"apicourse-backoff-{name}")
        for control in (self.base, self.retries, self.jitter, self.cap):
            control.observe(lambda _change: self.draw(), names="value")
        self.redraw.on_click(lambda _button: self.draw(new_draw=True))
        self.box = w.VBox(
            [self.base, self.retries, self.jitter, self.cap, self.redraw, self.summary, self.plot]
        )
        self.box.add_class("apicourse-backoff")
        self.draw()

    def draw(self, new_draw: bool = False) -> list[Step]:
        """Recompute the timeline from the controls and redraw it."""
        if new_draw:
            self.seed += 1
        self.steps = timeline(
            base=self.base.value,
            retries=self.retries.value,
            jitter=self.jitter.value,
            cap=self.cap.value,
            seed=self.seed,
        )
        self.summary.value = html.escape(timeline_summary(self.steps))
        self.plot.value = figure_png(plot_timeline(self.steps))
        return self.steps

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)


def backoff_explorer(**settings: Any) -> BackoffExplorer:
    """The backoff-timeline control of lesson 04.

    >>> explorer = backoff_explorer(base=1.0, retries=3, jitter="none")
    >>> [s.wait for s in explorer.steps]
    [1.0, 2.0, 4.0, 0.0]
    """
    return BackoffExplorer(**settings)
