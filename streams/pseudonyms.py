"""Keyed pseudonyms, one key per purpose, so two purposes cannot join their feeds.

The per-purpose key is derived from the master key with HMAC-SHA256 (a standard
key derivation for this case); a pseudonym is HMAC-SHA256(purpose key, kind:value)
cut to 128 bits and written in hex. The master key comes from the environment or
a file (see deploy/secrets.py); it is never in the repository.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache


class Pseudonymiser:
    def __init__(self, master_key: bytes) -> None:
        if not master_key:
            raise ValueError("a pseudonymisation key is required")
        self._master = master_key

    @lru_cache(maxsize=64)  # noqa: B019 - one instance per worker, few purposes
    def _key(self, purpose: str) -> bytes:
        return hmac.new(self._master, f"chorus-purpose:{purpose}".encode(), hashlib.sha256).digest()

    def pseudonym(self, purpose: str, kind: str, value: str) -> str:
        """The pseudonym of `value` (of kind person, record, ...) for `purpose`."""
        # hmac.digest: the one-shot form of hmac.new(...).hexdigest(), the same bytes, faster
        return hmac.digest(self._key(purpose), f"{kind}:{value}".encode(), "sha256").hex()[:32]
