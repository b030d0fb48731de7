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
``apicourse-backoff-plot``     the timeline picture (SVG, in an HTML widget)
=============================  ===================================================
"""

from __future__ import annotations

import html
import json
import math
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


_COLOURS = {"answered": "#2e9d55", "refused": "#d1495b", "wait": "#bbbbbb", "grid": "#e4e4e4", "ink": "#333333"}


def _tick_step(span: float) -> float:
    """A round distance between axis ticks, for about six ticks over ``span`` seconds.

    >>> _tick_step(7.8), _tick_step(0.9), _tick_step(40)
    (2.0, 0.2, 10.0)
    """
    raw = max(span, 1e-6) / 6
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * 1.0000001)


def plot_timeline(steps: list[Step], title: str | None = None, width: int = 720) -> str:
    """Draw attempts (bars: red refused, green answered) and waits (grey) on a time axis, as SVG text.

    Drawn here rather than with matplotlib: for these few bars, matplotlib and numpy would add about
    45 MB to lesson 04's kernel for as long as its tab stays open (``benchmarks/bench_memory.py``).

    >>> svg = plot_timeline(timeline(retries=3, jitter="none"))
    >>> svg.count('class="attempt refused"'), svg.count('class="wait"'), svg.count(">attempt ")
    (4, 3, 4)
    """
    left, right, row, top = 78, 16, 30, (26 if title else 10)
    height = top + row * len(steps) + 42
    end = max((step.end + step.wait for step in steps), default=0.0)
    tick = _tick_step(end)
    x_max = max(math.ceil(end / tick - 1e-9), 1) * tick

    def x(seconds: float) -> float:
        return left + (width - left - right) * seconds / x_max

    bottom = top + row * len(steps)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="11" fill="{_COLOURS["ink"]}">',
        f"<title>{html.escape(title or timeline_summary(steps))}</title>",
    ]
    if title:
        parts.append(f'<text x="{width / 2:.1f}" y="17" text-anchor="middle" font-size="12">{html.escape(title)}</text>')
    for index in range(round(x_max / tick) + 1):  # the grid and the axis's tick labels
        seconds = index * tick
        parts.append(f'<line x1="{x(seconds):.1f}" x2="{x(seconds):.1f}" y1="{top}" y2="{bottom}" '
                     f'stroke="{_COLOURS["grid"]}"/>')
        parts.append(f'<text x="{x(seconds):.1f}" y="{bottom + 15}" text-anchor="middle">{seconds:g}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{bottom}" y2="{bottom}" stroke="{_COLOURS["ink"]}"/>')
    parts.append(f'<text x="{x(x_max / 2):.1f}" y="{bottom + 34}" text-anchor="middle">seconds since the first attempt</text>')
    for index, step in enumerate(steps):
        middle = top + row * index + row / 2
        kind = "answered" if step.succeeded else "refused"
        parts.append(f'<text x="{left - 8}" y="{middle + 4:.1f}" text-anchor="end">attempt {step.attempt}</text>')
        parts.append(f'<rect class="attempt {kind}" x="{x(step.start):.1f}" y="{middle - 9:.1f}" '
                     f'width="{max(x(step.duration) - left, 2):.1f}" height="18" fill="{_COLOURS[kind]}"/>')
        if step.wait:
            parts.append(f'<rect class="wait" x="{x(step.end):.1f}" y="{middle - 4:.1f}" '
                         f'width="{x(step.wait) - left:.1f}" height="8" fill="{_COLOURS["wait"]}"/>')
            parts.append(f'<text x="{x(step.end + step.wait / 2):.1f}" y="{middle - 6:.1f}" text-anchor="middle" '
                         f'font-size="9">wait {step.wait:.2f}s</text>')
    return "\n".join([*parts, "</svg>"])


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
        self.plot = w.HTML(layout=w.Layout(max_width="720px"))
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
        self.plot.value = plot_timeline(self.steps)
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
