"""回头看 (recheck against earlier rounds): a unit inspected again has each new finding matched to the
problems earlier rounds of that unit reported, classed 整改不到位 / 反弹回潮 / 新问题 with a reason,
and the earlier problems never 销号 listed."""

from __future__ import annotations

from service.recheck.matching import ANY_ITEM_SIMILARITY, SAME_ITEM_SIMILARITY, Thresholds
from service.recheck.service import (CLASS_AGAIN, CLASS_BACK, CLASS_NEW, SECTION_TITLE, EarlierProblem,
                                     FindingMatch, Recheck, earlier_rounds, recheck)

__all__ = ["ANY_ITEM_SIMILARITY", "CLASS_AGAIN", "CLASS_BACK", "CLASS_NEW", "EarlierProblem", "FindingMatch",
           "Recheck", "SAME_ITEM_SIMILARITY", "SECTION_TITLE", "Thresholds", "earlier_rounds", "recheck"]
