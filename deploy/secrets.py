"""The pseudonymisation key: from the environment or a file, never the repository.

In development mode a fixed development key is used when none is given, and
Chorus says so. In production mode a missing, short or development key stops
Chorus from starting.
"""

from __future__ import annotations

import sys
from pathlib import Path

from deploy.environment import Environment

DEVELOPMENT_KEY = b"chorus-development-key--not-for-production-use"
MIN_KEY_LENGTH = 32


class SecretError(Exception):
    """A secret is missing or unsafe; one line for the user."""


def pseudonym_key(env: Environment) -> bytes:
    mode = env.get("CHORUS_MODE")
    if mode not in ("development", "production"):
        raise SecretError(f"CHORUS_MODE={mode!r}: use development or production")
    key: bytes | None = None
    if env.get("CHORUS_PSEUDONYM_KEY"):
        key = env.get("CHORUS_PSEUDONYM_KEY").encode()
    elif env.get("CHORUS_PSEUDONYM_KEY_FILE"):
        path = Path(env.get("CHORUS_PSEUDONYM_KEY_FILE"))
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise SecretError(
                f"CHORUS_PSEUDONYM_KEY_FILE cannot be read ({exc.strerror})"
            ) from None
    if key is None or key == DEVELOPMENT_KEY:
        if mode == "production":
            raise SecretError(
                "production mode needs a pseudonymisation key: set CHORUS_PSEUDONYM_KEY_FILE "
                "(or CHORUS_PSEUDONYM_KEY) to a secret of at least 32 characters"
            )
        print(
            "chorus: development mode, using the development pseudonymisation key", file=sys.stderr
        )
        return DEVELOPMENT_KEY
    if len(key) < MIN_KEY_LENGTH:
        raise SecretError(f"the pseudonymisation key is shorter than {MIN_KEY_LENGTH} characters")
    return key
