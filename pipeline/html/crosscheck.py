"""The published cross-check as a table: DfE's own region and England figures against Tartan's
sums of the LA rows (``pipeline.core.crosscheck`` makes the comparison)."""

from __future__ import annotations

from pipeline.core.catalogue import Catalogue
from pipeline.core.crosscheck import ENGLAND
from pipeline.html.base import table

#: each measure in words
MEASURE_WORDS = {"numerator": "numerator", "denominator": "denominator", "value": "value"}
HEADINGS = ["Area, year, indicator and measure", "DfE published", "Tartan from LA rows"]
HEADINGS += ["Difference", "Allowed (rounding)", "LAs with a figure", "Outcome"]


def crosscheck_table(
    caption: str, rows: list[dict], area_names: dict[str, str], catalogue: Catalogue
) -> str:
    """Cross-check rows (as records) as an HTML table: DfE's figure as published, Tartan's to
    two more decimals than DfE publishes, so the rounding can be seen."""
    return table(
        caption,
        HEADINGS,
        _table_rows(rows, area_names, catalogue),
        numeric=[False, True, True, True, True, True, False],
    )


def _table_rows(rows: list[dict], area_names: dict[str, str], catalogue: Catalogue) -> list[list]:
    out = []
    known = {i.id: i for i in catalogue}
    for r in rows:
        ind = known.get(r["indicator_id"])
        label = ind.label if ind else r["indicator_id"]
        places = (ind.decimals if ind else 1) + 2 if r["measure"] == "value" else 0

        def num(x: float, places: int = places) -> str:
            return "" if x is None or x != x else f"{x:,.{places}f}"

        area = "England" if r["area_code"] == ENGLAND else area_names.get(r["area_code"], "")
        out.append(
            [
                f"{area}, {r['period']}: {label}, {MEASURE_WORDS.get(r['measure'], r['measure'])}",
                num(r["published"], places - 2 if r["measure"] == "value" else 0),
                num(r["tartan"]),
                num(r["difference"]),
                num(r["allowed"], places),
                f"{r['las_contributing']} of {r['las_in_area']}",
                r["outcome"],
            ]
        )
    return out
