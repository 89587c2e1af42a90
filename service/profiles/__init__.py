"""画像: a page per inspected unit and per person, gathering across documents and rounds every
finding (item, 三个聚焦, document, date), the rounds, the rectification status of the problems and
(through ``lead_rounds`` / ``person_leads``) the leads — all within the reader's team scope."""

from __future__ import annotations

from service.profiles.models import (FOUND_IN_ROUND, MENTIONED, PERSON_ROLES, PersonProfile, PersonSummary,
                                     UnitProfile, UnitSummary)
from service.profiles.people import list_people, person_profile
from service.profiles.sources import Scope
from service.profiles.units import list_units, unit_profile


def lead_rounds(profile: UnitProfile | PersonProfile) -> list[int]:
    """Rounds whose leads belong in the profile: a unit's own rounds; every round a person appears in."""
    return [r.id for r in profile.rounds]


def person_leads(leads: list, name: str) -> list:
    """The leads (``service.leads.Lead``) about ``name``."""
    return [lead for lead in leads if name in lead.persons]


__all__ = ["FOUND_IN_ROUND", "MENTIONED", "PERSON_ROLES", "PersonProfile", "PersonSummary", "Scope", "UnitProfile",
           "UnitSummary", "lead_rounds", "list_people", "list_units", "person_leads", "person_profile", "unit_profile"]
