"""Practice keys: make one, keep it in the course's ``.env``, and show it without giving it away.

>>> mask(new_key()).startswith("prac")
True
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from apicourse.paths import env_file  # the course's .env (``$APICOURSE_ENV_FILE`` overrides it)
from apicourse.practice.config import KEY_VAR


def new_key() -> str:
    """A fresh random practice key (not a real provider's key; it only opens the practice API).

    >>> key = new_key()
    >>> key.startswith("practice-"), len(key)
    (True, 33)
    """
    return "practice-" + secrets.token_hex(12)


def saved_key(path: str | os.PathLike[str] | None = None) -> str | None:
    """The practice key from the environment or, failing that, from the ``.env`` file (not loaded).

    >>> import os, tempfile
    >>> os.environ.pop("PRACTICE_API_KEY", None) and None
    >>> env = os.path.join(tempfile.mkdtemp(), ".env")
    >>> saved_key(env) is None
    True
    >>> _ = open(env, "w").write("PRACTICE_API_KEY=practice-abc\\n")
    >>> saved_key(env)
    'practice-abc'
    """
    value = os.environ.get(KEY_VAR, "").strip()
    if value:
        return value
    from dotenv import dotenv_values

    target = Path(path) if path is not None else env_file()
    if target.is_file():
        value = (dotenv_values(target).get(KEY_VAR) or "").strip()
    return value or None


def save_key(key: str, path: str | os.PathLike[str] | None = None, *, overwrite: bool = False) -> Path:
    """Write ``PRACTICE_API_KEY=key`` into a ``.env`` file with python-dotenv's ``set_key``.

    Leaves a key that is already there alone unless ``overwrite=True`` (rotation). Returns the file.

    >>> import tempfile, os
    >>> env = os.path.join(tempfile.mkdtemp(), ".env")
    >>> save_key("practice-one", env).name
    '.env'
    >>> _ = save_key("practice-two", env)          # kept: already there
    >>> open(env).read().strip()
    "PRACTICE_API_KEY='practice-one'"
    """
    from dotenv import dotenv_values, set_key

    target = Path(path) if path is not None else env_file()
    if not overwrite and target.is_file() and dotenv_values(target).get(KEY_VAR):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(exist_ok=True)
    set_key(str(target), KEY_VAR, key)
    return target


def mask(secret: str, shown: int = 4) -> str:
    """Show only the ends of a secret: enough to tell keys apart, never enough to use one.

    >>> mask("practice-0123456789abcdef01234567")
    'prac…4567'
    >>> mask("short")
    '…'
    """
    if len(secret) < 3 * shown:
        return "…"
    return f"{secret[:shown]}…{secret[-shown:]}"
