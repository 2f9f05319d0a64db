"""The pseudonymisation key: from the environment or a file, never the repository.

In development mode a fixed development key is used when none is given, and
Chorus says so. In production mode a missing, short or development key stops
Chorus from starting.
"""

from __future__ import annotations

import os
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


# -- Kafka credentials ---------------------------------------------------------------------

KAFKA_SECRETS_DIR = Path("secrets") / "kafka"  # under CHORUS_HOME, for the local stack only
PASSWORD_BYTES = 24


def _read_secret_file(variable: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"{variable} cannot be read ({exc.strerror})") from None


def kafka_password(env: Environment, username: str, local: LocalSecrets | None = None) -> str:
    """The password of ``username``: CHORUS_KAFKA_PASSWORD, then _FILE, then the local store."""
    if env.get("CHORUS_KAFKA_PASSWORD"):
        return env.get("CHORUS_KAFKA_PASSWORD")
    if env.get("CHORUS_KAFKA_PASSWORD_FILE"):
        return _read_secret_file(
            "CHORUS_KAFKA_PASSWORD_FILE", Path(env.get("CHORUS_KAFKA_PASSWORD_FILE"))
        )
    if local is not None and local.path(username).is_file():
        return local.password(username, create=False)
    raise SecretError(
        "CHORUS_KAFKA_USERNAME is set but no password: set CHORUS_KAFKA_PASSWORD_FILE "
        "(or CHORUS_KAFKA_PASSWORD)"
    )


class LocalSecrets:
    """Passwords of the local secured stack: one file per Kafka user, mode 0600.

    They live in ``$CHORUS_HOME/secrets/kafka/`` (a folder only its owner can open), are
    generated on first use and never printed. Production passwords come from the
    deployment's secret store instead (CHORUS_KAFKA_PASSWORD_FILE).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def under(cls, state_dir: Path) -> LocalSecrets:
        return cls(state_dir / KAFKA_SECRETS_DIR)

    def path(self, username: str) -> Path:
        if not username or "/" in username or username.startswith("."):
            raise SecretError("a Kafka user name must be a plain name")
        return self.folder / f"{username}.password"

    def password(self, username: str, create: bool = True) -> str:
        path = self.path(username)
        if path.is_file():
            return _read_secret_file(f"the password file of {username}", path)
        if not create:
            raise SecretError(f"no local password for Kafka user {username}")
        return self.renew(username)

    def renew(self, username: str) -> str:
        """A new random password for ``username``, written before it is returned."""
        import secrets

        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder.chmod(0o700)
        path = self.path(username)
        value = secrets.token_urlsafe(PASSWORD_BYTES)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value + "\n")
        tmp.replace(path)
        return value
