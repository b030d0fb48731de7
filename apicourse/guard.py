"""A network guard: proves that nothing but loopback is contacted.

The test-suite installs it in every notebook kernel (through an IPython start-up file), so a lesson
that tries to reach the internet without a key fails loudly instead of quietly going live::

    from apicourse import guard
    guard.install(log="blocked.log")   # from now on only 127.0.0.1 / ::1 / localhost / unix sockets
    import socket
    socket.create_connection(("example.com", 80))   # raises guard.OutsideConnection

It uses :func:`sys.addaudithook`, so it sees every ``socket.connect`` and ``getaddrinfo`` made by any
library (requests, httpx2, urllib, asyncio) and cannot be switched off once installed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path
from typing import Any, Callable

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
GUARD_LOG_VAR = "APICOURSE_GUARD_LOG"
"""If set in a kernel's environment, the start-up file installs the guard and logs blocked attempts there."""


class OutsideConnection(ConnectionRefusedError):
    """A connection to a host outside loopback, refused by the guard."""


def is_loopback(host: Any) -> bool:
    """True for loopback addresses and names.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("8.8.8.8")
    (True, True, True, False)
    """
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    if host in LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_installed_log: Path | None = None
_installed = False


def _note(what: str) -> None:
    if _installed_log is not None:
        with open(_installed_log, "a", encoding="utf-8") as fh:
            fh.write(what + "\n")


def _outside(event: str, args: tuple[Any, ...]) -> tuple[str, str] | None:
    """For an audit event that reaches outside loopback, (host, what it is: ``connect host:port`` or
    ``lookup 'host'``); for anything else, None."""
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) \
                and not is_loopback(address[0]):
            return str(address[0]), f"connect {address[0]}:{address[1]}"
    elif event == "socket.getaddrinfo" and not is_loopback(args[0]):
        host = args[0].decode(errors="replace") if isinstance(args[0], bytes) else str(args[0])
        return host, f"lookup {args[0]!r}"
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    found = _outside(event, args)
    if found is not None:
        _note(found[1])
        raise OutsideConnection(f"network guard: {found[1]} refused (only loopback is allowed)")


def install(log: str | os.PathLike[str] | None = None) -> None:
    """Refuse, from now on and for good, every connection and name lookup outside loopback.

    ``log``: a file that gets one line per refused attempt (the tests read it).
    """
    global _installed, _installed_log
    if log is not None:
        _installed_log = Path(log)
        _installed_log.touch()
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def watch(decide: Callable[[str], str | None]) -> None:
    """Ask ``decide(host)`` about every connection and name lookup outside loopback from now on: it returns
    None to let it through, or the sentence to refuse it with (:class:`OutsideConnection`). Replay uses it
    (:mod:`apicourse.replay`) so that a lesson's first call cannot leave before replay has begun::

        >>> watch(lambda host: None)  # a watcher that lets everything through
    """
    def hook(event: str, args: tuple[Any, ...]) -> None:
        found = _outside(event, args)
        if found is not None:
            refusal = decide(found[0])
            if refusal is not None:
                raise OutsideConnection(refusal)

    sys.addaudithook(hook)


def startup_code() -> str:
    """The IPython start-up file the tests drop into a kernel's profile."""
    return (
        "import os as _os\n"
        f"if _os.environ.get({GUARD_LOG_VAR!r}):\n"
        "    from apicourse import guard as _guard\n"
        f"    _guard.install(log=_os.environ[{GUARD_LOG_VAR!r}])\n"
    )
