"""A real PostgreSQL server for the test session: started once, stopped after the last test.

Import the fixture into a test module (``from tests.integration.postgres_fixture import
postgres_url``). A server that cannot be started is a test failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.postgres import DEFAULT_PORT, Server, create_database, start, stop
from deploy.local.processes import StackError


def _port() -> int:
    """The default port when it is free, else any free one (a developer's server may hold it)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", DEFAULT_PORT))
            return DEFAULT_PORT
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh database on a private PostgreSQL server."""
    # Not pytest's tmp_path: its folders are private to us, and the server runs as 'postgres'.
    state = Path(tempfile.mkdtemp(prefix="chorus-pg-"))
    os.chmod(state, 0o755)
    server = Server(state / "postgres", _port())
    try:
        start(server, log=lambda _line: None)
        url = create_database(server, "chorus_test")
    except StackError as exc:
        stop(server)
        shutil.rmtree(state, ignore_errors=True)
        pytest.fail(f"PostgreSQL could not be started for the tests: {exc}")
    try:
        yield url
    finally:
        stop(server)
        shutil.rmtree(state, ignore_errors=True)
