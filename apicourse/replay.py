"""Live, replay or record: decided per provider, once, at the top of every notebook.

Each lesson's first code cell is::

    import apicourse; course = apicourse.start("05_openai")

* **live**   – that provider's key is set (in the environment or in ``.env``): its calls go to the
  real API and never pass through a cassette.
* **replay** – no key: its calls are answered from ``cassettes/<notebook>/<notebook>.yaml`` and
  nothing leaves the machine; a call with no recording (a changed prompt) is answered by the offline
  stand-in, labelled as such (:mod:`apicourse.sandbox`; ``APICOURSE_STRICT_REPLAY=1`` makes it fail
  instead). Placeholder keys are set so the SDKs construct, retry waits are zero, Hugging Face
  telemetry is off. The cassette is entered when the lesson first imports ``requests`` or an SDK (at
  once if one is loaded already): a lesson that sends nothing never loads vcrpy and the HTTP
  libraries it patches (about 13 MB in each such kernel).
* **record** – only under ``python -m apicourse.record``: calls go out and are written, scrubbed,
  to the cassette.

``APICOURSE_FORCE_REPLAY=1`` replays every provider even when keys are present (a classroom that
must not spend money).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import urlsplit

from apicourse import paths

if TYPE_CHECKING:
    from apicourse.missing_recording import MissingRecording

FORCE_REPLAY_VAR = "APICOURSE_FORCE_REPLAY"
"""Set to 1 to replay every provider, keys or not."""
MODE_VAR = "APICOURSE_MODE"
"""Set to ``record`` by the record command; learners never set it."""
CASSETTE_DIR_VAR = "APICOURSE_CASSETTE_DIR"
"""Where the record command asks a kernel to write its cassette (a temporary folder)."""
STANDIN_VAR = "APICOURSE_STANDIN_URL"
"""When recording against the local stand-in: its base URL, e.g. ``http://127.0.0.1:8765``."""


class Mode(str, Enum):
    """How one provider's calls are answered in this kernel."""

    LIVE = "live"
    REPLAY = "replay"
    RECORD = "record"


@dataclass(frozen=True)
class Provider:
    """One API provider the course talks to."""

    name: str
    label: str
    key_var: str
    placeholder: str
    hosts: tuple[str, ...]


PROVIDERS: tuple[Provider, ...] = (
    Provider("openai", "OpenAI", "OPENAI_API_KEY", "sk-replay-placeholder", ("api.openai.com",)),
    Provider(
        "anthropic", "Anthropic", "ANTHROPIC_API_KEY", "sk-ant-replay-placeholder", ("api.anthropic.com",)
    ),
    Provider(
        "huggingface",
        "Hugging Face",
        "HF_TOKEN",
        # the prefix matters: huggingface_hub routes on it
        "hf_replay_placeholder",
        ("huggingface.co", "router.huggingface.co", "api-inference.huggingface.co"),
    ),
)
PROVIDER_BY_NAME: dict[str, Provider] = {p.name: p for p in PROVIDERS}

SCRUBBED_REQUEST_HEADERS: tuple[str, ...] = (
    "authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
    "x-amzn-trace-id",  # random per request: kept out so that re-recording changes nothing
)
"""Request headers never written to a cassette."""
SCRUBBED_RESPONSE_HEADERS: tuple[str, ...] = (
    "set-cookie",
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
)
"""Response headers never written to a cassette."""
RECORDED_AGAINST = "recorded_against"
"""The cassette metadata key that says what a cassette was recorded against."""
MATCH_ON: tuple[str, ...] = ("method", "path", "query", "body")
"""How a request finds its recording: not by host, never by headers (so never by key)."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def provider_for_host(host: str) -> Provider | None:
    """The provider that serves ``host``, if any.

    >>> provider_for_host("api.anthropic.com").label
    'Anthropic'
    >>> provider_for_host("example.com") is None
    True
    """
    for provider in PROVIDERS:
        if host in provider.hosts:
            return provider
    return None


def provider_modes(environ: Mapping[str, str] | None = None) -> dict[str, Mode]:
    """Decide each provider's mode from environment variables (``.env`` already loaded).

    >>> provider_modes({"OPENAI_API_KEY": "sk-mine"})["openai"].value
    'live'
    >>> provider_modes({"OPENAI_API_KEY": "sk-mine"})["anthropic"].value
    'replay'
    >>> provider_modes({"OPENAI_API_KEY": "sk-mine", "APICOURSE_FORCE_REPLAY": "1"})["openai"].value
    'replay'
    """
    env = os.environ if environ is None else environ
    if env.get(MODE_VAR, "").strip().lower() == Mode.RECORD.value:
        return {p.name: Mode.RECORD for p in PROVIDERS}
    forced = _truthy(env.get(FORCE_REPLAY_VAR))
    modes: dict[str, Mode] = {}
    for provider in PROVIDERS:
        key = env.get(provider.key_var, "").strip()
        has_key = bool(key) and key != provider.placeholder
        modes[provider.name] = Mode.LIVE if (has_key and not forced) else Mode.REPLAY
    return modes


def missing_recording_message(cassette: Any, request: Any, detail: str = "") -> str:
    """The text a learner sees when replay has no answer for a request."""
    cassette_path = Path(getattr(cassette, "_path", "") or "?")
    notebook = cassette_path.stem if cassette_path.name != "?" else "?"
    try:
        shown = cassette_path.resolve().relative_to(paths.ROOT).as_posix()
    except ValueError:
        shown = str(cassette_path)
    method = getattr(request, "method", "?")
    uri = getattr(request, "uri", "?")
    provider = provider_for_host(urlsplit(uri).hostname or "")
    lines = [
        f"No recording for {method} {uri}",
        f"  notebook: {notebook}",
        f"  cassette: {shown}",
        "",
        "In replay mode nothing leaves your machine: every call is answered from the cassette,",
        "and this one is not in it (did a prompt or a parameter change? any change to the request",
        "body needs a new recording).",
        "",
        "Two ways to fix it:",
    ]
    if provider is not None:
        lines.append(
            f"  1. go live: put {provider.key_var}=... in the course's .env file "
            "(see 00_start_here), then restart the kernel;"
        )
    else:
        lines.append(
            "  1. this host is not one of the course's providers: point the call at the practice API "
            "(127.0.0.1), or go live with a provider key in .env;"
        )
    lines.append(
        f"  2. re-record the cassette: python -m apicourse.record notebooks/{notebook}.ipynb "
        "(needs the provider keys)."
    )
    from apicourse import sandbox

    if provider is not None and sandbox.strict():
        lines.append(
            "(APICOURSE_STRICT_REPLAY is set, so the offline stand-in does not answer unrecorded calls;"
            " unset it to let it.)"
        )
    if detail:
        lines += ["", "What vcrpy compared:", detail]
    return "\n".join(lines)


def find_missing_recording(error: BaseException | None) -> MissingRecording | None:
    """Walk an exception's cause chain for a :class:`MissingRecording`.

    Anthropic's SDK wraps transport errors in ``APIConnectionError``; the real cause stays in
    ``__cause__``, and this finds it.
    """
    module = sys.modules.get("apicourse.missing_recording")
    if module is None:  # no replay has begun in this process: nothing can have raised one
        return None
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, module.MissingRecording):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@dataclass
class Session:
    """What :func:`start` decided for this kernel. Shows itself as the mode banner."""

    notebook: str
    modes: dict[str, Mode]
    cassette_file: Path
    _context: Any = field(default=None, repr=False)
    _cassette: Any = field(default=None, repr=False)
    _pending: bool = field(default=False, repr=False)  # replay begins with the first HTTP library imported

    def mode(self, provider: str) -> Mode:
        """The mode of one provider: ``course.mode("openai")``."""
        return self.modes[provider]

    def is_live(self, provider: str) -> bool:
        """True when that provider's calls go to the real API: ``course.is_live("anthropic")``."""
        return self.modes[provider] is Mode.LIVE

    @property
    def replaying(self) -> bool:
        """True when at least one provider replays from the cassette."""
        return any(m is Mode.REPLAY for m in self.modes.values())

    def describe(self, provider: Provider) -> str:
        """One provider's line of the banner (no key is ever shown, not even a part of it)."""
        try:
            cassette = self.cassette_file.relative_to(paths.ROOT).as_posix()
        except ValueError:
            cassette = str(self.cassette_file)
        mode = self.modes[provider.name]
        if mode is Mode.LIVE:
            return f"{provider.key_var} is set: calls reach {provider.hosts[0]} and may cost money"
        if mode is Mode.RECORD:
            return f"calls go out and are written to {cassette}"
        from apicourse import sandbox

        go_live = f"add {provider.key_var} to .env to go live"
        calls = self.provider_calls()
        if calls is not None and provider.name not in calls:
            return f"this lesson makes no {provider.label} calls; {go_live}"
        if sandbox.strict():
            return f"recorded calls from {cassette}, unrecorded ones fail (strict); {go_live}"
        if not self.cassette_file.is_file():
            return f"nothing recorded here: calls answered by the offline stand-in (labelled); {go_live}"
        return f"recorded calls from {cassette}, others by the offline stand-in (labelled); {go_live}"

    def provider_calls(self) -> list[str] | None:
        """The providers this lesson's code calls (from ``notebooks/<notebook>.ipynb``; None if there is none)."""
        notebook = paths.NOTEBOOKS / f"{self.notebook}.ipynb"
        if not notebook.is_file():
            return None
        from apicourse.record import code_sources, providers_used

        return providers_used(code_sources(notebook))

    def banner_lines(self) -> list[str]:
        """The banner as text lines."""
        lines = [f"Working with APIs · {self.notebook}"]
        for provider in PROVIDERS:
            lines.append(f"  {provider.label:<13}{self.modes[provider.name].value:<7} {self.describe(provider)}")
        if _truthy(os.environ.get(FORCE_REPLAY_VAR)):
            lines.append(f"  ({FORCE_REPLAY_VAR} is set: every provider replays, keys or not)")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.banner_lines())

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td><b>{html.escape(p.label)}</b></td>"
            f'<td class="apicourse-mode apicourse-{self.modes[p.name].value}">{self.modes[p.name].value}</td>'
            f"<td>{html.escape(self.describe(p))}</td></tr>"
            for p in PROVIDERS
        )
        forced = (
            f"<div>{FORCE_REPLAY_VAR} is set: every provider replays, keys or not.</div>"
            if _truthy(os.environ.get(FORCE_REPLAY_VAR))
            else ""
        )
        return (
            '<div class="apicourse-banner" style="border:1px solid #888;border-radius:6px;'
            'padding:6px 10px;font-size:0.9em">'
            f"<b>Working with APIs · {html.escape(self.notebook)}</b>"
            f'<table style="margin:4px 0">{rows}</table>{forced}</div>'
        )

    def stop(self) -> None:
        """Close the cassette (in record mode this writes it). Safe to call twice."""
        global _SESSION
        self._pending = False
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None
            self._cassette = None
        if _SESSION is self:
            _SESSION = None


_SESSION: Session | None = None


def current() -> Session | None:
    """The session started in this kernel, if any."""
    return _SESSION


def start(notebook: str, *, env_file: str | os.PathLike[str] | None = None, quiet: bool = False) -> Session:
    """Decide live / replay / record for each provider and show the banner.

    >>> course = start("05_openai", quiet=True)   # doctest: +SKIP
    >>> course.is_live("openai")                  # doctest: +SKIP
    False

    Loads the course's ``.env`` first (``env_file``, else ``$APICOURSE_ENV_FILE``, else ``.env`` at the
    top of the course; never overriding variables already set), then decides. Calling it again restarts cleanly.
    """
    global _SESSION
    from dotenv import load_dotenv

    if _SESSION is not None:
        _SESSION.stop()
    dotenv_path = Path(env_file) if env_file is not None else paths.env_file()
    if dotenv_path.is_file():
        load_dotenv(dotenv_path, override=False)

    modes = provider_modes()
    cassette_dir = Path(os.environ[CASSETTE_DIR_VAR]) if os.environ.get(CASSETTE_DIR_VAR) else None
    cassette_file = (cassette_dir / f"{notebook}.yaml") if cassette_dir else paths.cassette_path(notebook)

    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    for provider in PROVIDERS:
        if modes[provider.name] is Mode.REPLAY and not os.environ.get(provider.key_var):
            os.environ[provider.key_var] = provider.placeholder
    _zero_retry_waits(modes)

    session = Session(notebook=notebook, modes=modes, cassette_file=cassette_file)
    if any(m is Mode.RECORD for m in modes.values()):
        from apicourse import recording

        if os.environ.get(STANDIN_VAR):
            recording.redirect_to_standin(os.environ[STANDIN_VAR])
        session._context = recording.recorder(cassette_file)
        session._cassette = session._context.__enter__()
        # provenance, written into the cassette: never mistake a stand-in recording for a live one
        source = "local stand-in (apicourse/standin)" if os.environ.get(STANDIN_VAR) else "live provider APIs"
        session._cassette.get_metadata(RECORDED_AGAINST, source)
    _SESSION = session
    if session.replaying and session._context is None:
        session._pending = True
        _begin_replay_on_first_http_import()
    _install_notebook_error_display()
    if not quiet:
        _show(session)
    return session


HTTP_LIBRARIES = ("requests", "urllib3", "httpx", "httpx2", "openai", "anthropic", "huggingface_hub")
"""Replay begins at once if one of these is loaded, else with the first import of :data:`BEGIN_ON`."""
BEGIN_ON = ("requests", "openai", "anthropic", "huggingface_hub")
"""What a lesson imports to send anything: replay begins right after the first of them has loaded (never
halfway through another import that vcrpy would then find half-done, as urllib3 within requests)."""


def _begin_replay_on_first_http_import() -> None:
    """Begin the current session's replay now if an HTTP library is loaded, else when the first one is.

    vcrpy imports every HTTP library it patches (about 13 MB in a kernel): a lesson that sends nothing
    (00, 10) never pays for them.
    """
    if any(name in sys.modules for name in HTTP_LIBRARIES):
        _begin_replay()
        return
    for name in BEGIN_ON:
        _after_import(name, lambda module: _begin_replay())
    global _WATCHING
    if not _WATCHING:  # urllib (always loaded) needs no import: its first call outside begins replay instead
        from apicourse import guard

        guard.watch(_first_call_outside)
        _WATCHING = True


_WATCHING = False


def _first_call_outside(host: str) -> str | None:
    """A call is about to leave the machine while replay waits for its first HTTP import: begin replay, and
    stop this one call (its connection was opened before vcrpy could answer it) unless it is a live host."""
    session = _SESSION
    if session is None or not session._pending:
        return None
    _begin_replay()
    if any(host == h or host.endswith("." + h) for p in PROVIDERS if session.modes[p.name] is Mode.LIVE
           for h in p.hosts):
        return None
    return (f"apicourse: a call to {host} was stopped before it left the machine (no key: this lesson replays "
            "its recordings). Replay is on now: run the cell again to get the recorded or stand-in answer.")


def _begin_replay() -> None:
    """Enter the current session's cassette (once): recorded answers, the stand-in, paced streams."""
    session = _SESSION
    if session is None or not session._pending:
        return
    session._pending = False
    live_hosts = [h for p in PROVIDERS if session.modes[p.name] is Mode.LIVE for h in p.hosts]
    session._context = _replayer(session.cassette_file, ignore_hosts=live_hosts)
    from apicourse import pacing, sandbox

    sandbox.install(session.notebook)  # an unrecorded call gets the offline stand-in's labelled answer
    pacing.install()  # replayed streams arrive event by event (APICOURSE_STREAM_DELAY=0: at once)
    session._cassette = session._context.__enter__()


def __getattr__(name: str) -> Any:
    if name == "MissingRecording":  # its own module: importing vcrpy costs every HTTP library it patches
        from apicourse.missing_recording import MissingRecording

        return MissingRecording
    if name in ("scrub_request", "scrub_response", "standin_to_provider_url"):  # record mode's: its own module
        from apicourse import recording

        return getattr(recording, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _show(session: Session) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(session)
            return
    except ImportError:
        pass
    print(session)


def _vcr(cassette_file: Path, **options: Any) -> Any:
    import vcr

    from apicourse import missing_recording

    missing_recording.install()
    return vcr.VCR(
        cassette_library_dir=str(cassette_file.parent),
        match_on=MATCH_ON,
        filter_headers=list(SCRUBBED_REQUEST_HEADERS),
        decode_compressed_response=True,
        **{"ignore_localhost": True, **options},
    )


def _replayer(cassette_file: Path, ignore_hosts: list[str]) -> Any:
    return _vcr(cassette_file, record_mode="none", ignore_hosts=ignore_hosts).use_cassette(
        cassette_file.name, allow_playback_repeats=True
    )


def provider_to_standin_url(url: str, standin_url: str) -> str:
    """``https://api.openai.com/v1/models`` → ``http://127.0.0.1:8765/api.openai.com/v1/models``.

    >>> provider_to_standin_url("https://api.openai.com/v1/models?x=1", "http://127.0.0.1:8765")
    'http://127.0.0.1:8765/api.openai.com/v1/models?x=1'
    """
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{standin_url.rstrip('/')}/{parts.hostname}{parts.path}{query}"


def _zero_retry_waits(modes: Mapping[str, Mode]) -> None:
    """In replay, the SDKs' own retries happen instantly and never retry a missing recording.

    The SDKs take seconds to import, so lessons that never use one don't pay for it: the patch is
    applied now if the SDK is already imported, else the moment it is.
    """
    for name in ("openai", "anthropic"):
        if modes[name] is Mode.REPLAY:
            _after_import(f"{name}._base_client", _patch_retry_waits)


def _patch_retry_waits(module: Any) -> None:
    base = module.BaseClient
    if getattr(base, "_apicourse_zero_wait", False):
        return
    base._calculate_retry_timeout = lambda self, *args, **kwargs: 0.0
    if hasattr(base, "_should_retry_exception"):
        original = base._should_retry_exception

        def should_retry(self: Any, err: BaseException) -> Any:
            if find_missing_recording(err) is not None:
                return (False, None)
            return original(self, err)

        base._should_retry_exception = should_retry
    base._apicourse_zero_wait = True


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs a callback right after one module is first imported."""

    def __init__(self, fullname: str, callback: Callable[[Any], None]) -> None:
        self.fullname, self.callback = fullname, callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.fullname:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module, callback = spec.loader.exec_module, self.callback

        def exec_then_patch(module: Any) -> None:
            exec_module(module)
            callback(module)

        spec.loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


def _after_import(fullname: str, callback: Callable[[Any], None]) -> None:
    if fullname in sys.modules:
        callback(sys.modules[fullname])
    elif not any(isinstance(f, _AfterImport) and f.fullname == fullname for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(fullname, callback))


def _install_notebook_error_display() -> None:
    """In a notebook, show the missing-recording message on top even when an SDK wrapped it."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_apicourse_exc_handler", False):
        return

    def handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> Any:
        missing = find_missing_recording(value)
        if missing is not None and missing is not value:
            print(str(missing), file=sys.stderr)
            print("", file=sys.stderr)
        elif missing is None:
            from apicourse.live_errors import explain  # a live-mode 401/404/429/5xx… and its fix

            explanation = explain(value)
            if explanation is not None:
                print(str(explanation) + "\n", file=sys.stderr)
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((Exception,), handler)
    shell._apicourse_exc_handler = True
