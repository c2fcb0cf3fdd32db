"""Hand-made indicator catalogues for the core tests: one indicator of each polarity and unit."""

from __future__ import annotations

from pipeline.core.catalogue import Catalogue

INDICATORS = {
    "rereferrals_pct": {
        "label": "Re-referrals (%)",
        "theme": "Front door",
        "unit": "percentage",
        "polarity": "low",
        "decimals": 1,
        "valid_range": [0, 100],
    },
    "visits_pct": {
        "label": "Visits in time (%)",
        "theme": "Children in need",
        "unit": "percentage",
        "polarity": "high",
        "decimals": 1,
        "valid_range": [0, 100],
    },
    "cla_rate": {
        "label": "Children looked after per 10,000",
        "theme": "Looked-after children",
        "unit": "rate per 10,000",
        "polarity": "neutral",
        "decimals": 0,
        "valid_range": [0, None],
    },
    "caseload": {
        "label": "Average caseload",
        "theme": "Workforce",
        "unit": "ratio",
        "polarity": "low",
        "decimals": 1,
        "valid_range": [0, None],
    },
}


def catalogue(*ids: str, **changes: dict) -> Catalogue:
    """The named indicators, in that order; `changes` maps an id to the fields that differ."""
    return Catalogue.from_records([{"id": i, **INDICATORS[i], **changes.get(i, {})} for i in ids])
