"""Every SSD table the case-management connector reads, one small declarative mapping each.

The order is the order tables are read in a batch and in a snapshot: people and
their identifiers first, so the identity processor meets a child before their
episodes. ``TABLE_NAMES`` is what the ``tables`` setting may list.
"""

from __future__ import annotations

from connectors.case_management.mappings.assessment import (
    ASSESSMENTS,
    CIN_PLANS,
    CONFERENCES,
    S47_ENQUIRIES,
)
from connectors.case_management.mappings.base import Lookup, Source, TableMapping
from connectors.case_management.mappings.care_leavers import CARE_LEAVERS, PATHWAY_PLANS
from connectors.case_management.mappings.consent import SHARING_PREFERENCES
from connectors.case_management.mappings.early_help import (
    EARLY_HELP_EPISODES,
    EARLY_HELP_OUTCOMES,
)
from connectors.case_management.mappings.front_door import CONTACTS, REFERRALS
from connectors.case_management.mappings.looked_after import (
    CLA_EPISODES,
    CLA_PLACEMENTS,
    CLA_REVIEWS,
    MISSING_EPISODES,
)
from connectors.case_management.mappings.people import IDENTIFIERS, PEOPLE
from connectors.case_management.mappings.protection import CP_PLANS, CP_REVIEWS
from connectors.case_management.mappings.voice import form_answers
from connectors.case_management.voice_mapping import VoiceMapping

__all__ = ["TABLE_NAMES", "Lookup", "Source", "TableMapping", "all_mappings"]

_BEFORE_VOICE: tuple[TableMapping, ...] = (
    PEOPLE,
    IDENTIFIERS,
    CONTACTS,
    REFERRALS,
    EARLY_HELP_EPISODES,
    EARLY_HELP_OUTCOMES,
    ASSESSMENTS,
    S47_ENQUIRIES,
    CONFERENCES,
    CIN_PLANS,
    CP_PLANS,
    CP_REVIEWS,
    CLA_PLACEMENTS,
    CLA_EPISODES,
    CLA_REVIEWS,
    MISSING_EPISODES,
    CARE_LEAVERS,
    PATHWAY_PLANS,
)
_AFTER_VOICE: tuple[TableMapping, ...] = (SHARING_PREFERENCES,)

#: Every table the connector can read, in reading order.
TABLE_NAMES: tuple[str, ...] = (
    *(m.name for m in _BEFORE_VOICE),
    "ssd_form_answers",
    *(m.name for m in _AFTER_VOICE),
)


def all_mappings(voice: VoiceMapping) -> tuple[TableMapping, ...]:
    """Every mapping, in reading order, with form answers read through ``voice``."""
    return (*_BEFORE_VOICE, form_answers(voice), *_AFTER_VOICE)
