"""The topics an environment needs: the catalogue plus a share topic per purpose and event type.

Which purposes may receive which events is policy data (policies/data/purposes.yaml),
so the share topics follow it. One more share topic carries no event: the gatekeeper's
``platform.subject_withdrawn`` messages to strategic reporting
(chorus.share.strategic_reporting.subject_withdrawn, streams/gatekeeper/withdrawals.py);
it is planned so that the aggregates find it when they start.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from schemas.topics import TopicSpec, all_topics

PURPOSES_FILE = Path(__file__).resolve().parents[1] / "policies" / "data" / "purposes.yaml"
#: Share topics of the gatekeeper's control messages: (purpose, message type).
CONTROL_SHARES = (("strategic_reporting", "platform.subject_withdrawn"),)


def share_pairs(purposes_file: Path = PURPOSES_FILE) -> list[tuple[str, str]]:
    """(purpose, event type) for every event type a purpose may receive."""
    doc = yaml.safe_load(purposes_file.read_text(encoding="utf-8")) or {}
    return sorted(
        (purpose, event_type)
        for purpose, spec in (doc.get("purposes") or {}).items()
        for event_type in (spec.get("events") or {})
    )


def planned_topics(prefix: str = "", purposes_file: Path = PURPOSES_FILE) -> list[TopicSpec]:
    return all_topics(prefix, [*share_pairs(purposes_file), *CONTROL_SHARES])
