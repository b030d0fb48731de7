"""Helpers for the *Working with APIs* course.

Every lesson starts with one line::

    import apicourse; apicourse.start("05_openai")

which decides, per provider, whether calls go live (you have that provider's key) or replay
from ``cassettes/`` (you don't), and prints a small banner saying which.

One module per concept:

- :mod:`apicourse.replay`     live / replay / record per provider, the cassette configuration
- :mod:`apicourse.guard`      the network guard used by the tests (nothing leaves 127.0.0.1)
- :mod:`apicourse.models`     every model name the course uses, each overridable by env var
- :mod:`apicourse.navigation` the previous / contents / next cells of every notebook
- :mod:`apicourse.record`     re-record cassettes (with real keys, or against the local stand-in)
"""

from __future__ import annotations

from apicourse.replay import Session, start

__all__ = ["Session", "start"]
