"""What every processor needs, built once per worker: codec, policy, pseudonymiser, settings."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.codec import Codec
from streams.policy_client import PolicyClient
from streams.pseudonyms import Pseudonymiser
from streams.settings import WorkerSettings


@dataclass
class StreamContext:
    settings: WorkerSettings
    codec: Codec
    policy: PolicyClient
    pseudonymiser: Pseudonymiser

    @classmethod
    def build(cls, settings: WorkerSettings) -> StreamContext:
        return cls(
            settings=settings,
            codec=Codec(),
            policy=PolicyClient(settings.opa_url, revision_poll_s=settings.revision_poll_s),
            pseudonymiser=Pseudonymiser(settings.pseudonym_key),
        )
