"""What every connector provides, and what it hands to the runner.

A connector knows its source and its mapping, nothing of Kafka: given the stored
position it reads the next batch of source records and maps each to an event
(`Mapped`) or to a rejection (`Rejected`, with the record's source coordinates
and the rule it broke). The runner (`connectors.common.runner`) encodes,
publishes, dead-letters, stores the new position once the broker has
acknowledged everything, and keeps the counts and metrics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connectors.common.settings import Setting
from schemas.errors import ContractError


class SourceUnavailable(Exception):
    """The source cannot be read just now (database down, folder missing); the runner retries."""


@dataclass(frozen=True)
class Coordinates:
    """Where a record lives in its source: a table and key, or a file and line."""

    entity: str
    key: str
    version: str = ""

    def as_record(self) -> dict[str, str]:
        return {"entity": self.entity, "key": self.key, "version": self.version}


@dataclass(frozen=True)
class Mapped:
    """One event to publish to chorus.source.<domain>.<event>."""

    event_type: str
    record: dict[str, Any]
    key: bytes | None


@dataclass(frozen=True)
class Rejected:
    """A source record that could not be mapped, for the dead-letter topic."""

    coordinates: Coordinates
    error: ContractError
    payload: bytes
    payload_format: str = "json"
    event_type: str | None = None

    def __post_init__(self) -> None:
        # The error's traceback holds the frames that caught it, whose locals hold the
        # batch being built (and this rejection): a reference cycle that kept every
        # event of a batch with one bad record alive until a full garbage collection.
        # The dead letter needs only the rule, the reason and the field.
        self.error.__traceback__ = None
        self.error.__context__ = None
        self.error.__cause__ = None


@dataclass
class Batch:
    """The next records after a position, mapped, and the position after them."""

    items: list[Mapped | Rejected]
    position: dict[str, Any]
    read: int
    notes: list[str] = field(default_factory=list)


class Connector(ABC):
    """A source of events. Subclasses declare their own settings in SETTINGS."""

    kind: ClassVar[str]
    description: ClassVar[str]
    SETTINGS: ClassVar[Sequence[Setting]] = ()

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.name: str = settings["name"]

    @abstractmethod
    def read(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        """The next batch after `position`, or None when nothing is new.

        Raises SourceUnavailable when the source cannot be reached.
        """

    @abstractmethod
    def lag(self, position: dict[str, Any] | None) -> int:
        """How many source records are not yet published."""

    @abstractmethod
    def check_source(self) -> list[str]:
        """Problems reaching or reading the source; empty when it is ready."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
