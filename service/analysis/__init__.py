"""共性问题分析: counts of findings across the units of a round and across rounds, within a team scope.

Findings count as in the report draft: tagged a finding, or confirmed/corrected by a reviewer;
rejected ones never. Breakdowns by 三个聚焦, checklist item, discipline, unit type, year, unit and round;
items recurring in two or more rounds or units; units whose items came back in a later round.
"""

from __future__ import annotations

from service.analysis.service import UNIT_TYPES, Analysis, analyse, unit_type

__all__ = ["UNIT_TYPES", "Analysis", "analyse", "unit_type"]
