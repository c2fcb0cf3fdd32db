"""Statistical disclosure control: small numbers are withheld before anything is published.

The rule (``data_contracts/disclosure.yaml``; the defaults are DfE's for children's social care):
- **Primary**: a numerator or denominator from 1 to 5 (``smallest`` to ``largest``) is withheld;
  zero is shown. A percentage or rate is withheld with its numerator, and whenever its
  denominator is withheld or below ``min_denominator``: a handful in a small cohort can be worked
  out from the percentage, or from the denominator less the numerator. Where the value is
  withheld the numerator is too, or the value could be worked back from it.
- **Secondary**: region and England figures are the ratio of sums of *all* their LAs' figures,
  so with every other LA's numerator and denominator shown, one withheld numerator could be
  recovered by difference. Wherever exactly one of an area's contributing LAs has its numerator
  withheld (or its denominator), the LA with the next smallest non-zero numerator (denominator)
  is withheld too, so only a sum of at least two can be worked out. Regions first, then England,
  until nothing changes. Where no other LA contributes, the area's own figure is withheld.
- Withheld figures are blank with status ``c`` (EES's symbol for confidential), primary and
  secondary alike, so a reader cannot tell which cell was the small one.
- Indicators in ``exempt`` (e.g. workforce FTEs, which DfE publishes unsuppressed) are left as
  returned.

Everything that is published is computed from the result: bands, ranks, SN comparators, changes
and trends of LAs; areas' changes and trends compare like with like on LAs with published figures
at both ends. Only the areas' own current figures use the withheld cells, and those are what the
secondary suppression protects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import OK, WITHHELD

SUPPRESSED = WITHHELD
ENGLAND = "england"
FIELDS = ("numerator", "denominator", "value")
REMOVED_COLUMNS = ["la_code", "period", "indicator_id", "field", "value", "reason"]


@dataclass(frozen=True)
class Rule:
    """What is withheld. Counts from `smallest` to `largest`; values whose denominator is below
    `min_denominator`; complementary cells when `secondary`; never for `exempt` indicators."""

    version: str = ""
    smallest: int = 1
    largest: int = 5
    min_denominator: float = 10
    secondary: bool = True
    exempt: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, object], where: str, catalogue: Catalogue | None = None
    ) -> Rule:
        known = {"version", "counts", "min_denominator", "secondary", "exempt"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"{where}: unknown setting {', '.join(unknown)}; "
                f"expected {', '.join(sorted(known))}"
            )
        counts = raw.get("counts", {"smallest": 1, "largest": 5})
        if not isinstance(counts, Mapping) or set(counts) - {"smallest", "largest"}:
            raise ConfigError(f"{where}: counts must be {{smallest: N, largest: M}}")
        try:
            smallest = int(counts.get("smallest", 1))  # type: ignore[call-overload]
            largest = int(counts.get("largest", 5))  # type: ignore[call-overload]
            min_den = float(raw.get("min_denominator", 10))  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}: counts and min_denominator must be numbers ({e})") from e
        if not 0 < smallest <= largest:
            raise ConfigError(
                f"{where}: counts.smallest ({smallest}) must be at least 1 and no more than "
                f"counts.largest ({largest}); zero is never withheld"
            )
        secondary = raw.get("secondary", True)
        if not isinstance(secondary, bool):
            raise ConfigError(f"{where}: secondary must be true or false")
        exempt = raw.get("exempt") or []
        if not isinstance(exempt, list):
            raise ConfigError(f"{where}: exempt must be a list of indicator ids")
        if catalogue is not None:
            unknown_ids = [str(i) for i in exempt if str(i) not in catalogue]
            if unknown_ids:
                raise ConfigError(
                    f"{where}: exempt names {', '.join(unknown_ids)}, "
                    "not in the indicator catalogue"
                )
        return cls(
            version=str(raw.get("version", "")),
            smallest=smallest,
            largest=largest,
            min_denominator=min_den,
            secondary=secondary,
            exempt=frozenset(str(i) for i in exempt),
        )

    def statement(self, catalogue: Catalogue | None = None) -> str:
        """The rule in a reader's words, as every report states it."""
        den = f"{self.min_denominator:g}"
        text = (
            f"Small numbers are withheld and shown as c: counts from {self.smallest} to "
            f"{self.largest}, and any percentage or rate whose numerator is withheld or whose "
            f"denominator is below {den}."
        )
        if self.secondary:
            text += (
                " Where a region's or England's figure would let a withheld count be worked out "
                "by difference, a further figure is withheld too."
            )
        if self.exempt and catalogue is not None:
            names = [catalogue[i].label for i in catalogue.ids if i in self.exempt]
            text += f" Not applied to measures that do not count children: {'; '.join(names)}."
        if self.version:
            text += f" (Disclosure rule version {self.version}.)"
        return text


@dataclass
class Disclosure:
    """What may be published.

    ``published``: the figures with every withheld number blank and its status ``c``.
    ``withheld_areas``: (area_code, period, indicator_id) whose own figure is withheld (area_code
    ``england`` for England). ``removed``: every number withheld, with its true value and whether
    the rule withheld it first-hand (``primary``) or to protect another (``secondary``); it stays
    in memory for checks and counts, and is never written.
    """

    published: pd.DataFrame
    withheld_areas: frozenset[tuple[str, str, str]]
    removed: pd.DataFrame
    rule: Rule | None

    @property
    def cells(self) -> int:
        """How many (LA, period, indicator) figures were withheld."""
        return int(self.removed[["la_code", "period", "indicator_id"]].drop_duplicates().shape[0])


def unsuppressed(figures: pd.DataFrame) -> Disclosure:
    """No disclosure control: for internal runs only (every page says so)."""
    return Disclosure(figures, frozenset(), pd.DataFrame(columns=REMOVED_COLUMNS), None)


def suppress(figures: pd.DataFrame, region_of: pd.Series, rule: Rule) -> Disclosure:
    """Apply `rule` to `figures` (FIGURE_COLUMNS): see the module's docstring.

    `region_of` maps la_code to region_code; LAs not in it are in England only.
    """
    f = figures.reset_index(drop=True)
    num = pd.to_numeric(f["numerator"], errors="coerce")
    den = pd.to_numeric(f["denominator"], errors="coerce")
    ruled = ~f["indicator_id"].isin(rule.exempt).to_numpy()

    def small(x: pd.Series) -> np.ndarray:
        return (x.notna() & (x >= rule.smallest) & (x <= rule.largest)).to_numpy() & ruled

    hide_den = small(den)
    thin = (den.notna() & (den < rule.min_denominator)).to_numpy() & ruled
    hide_num = small(num) | ((thin | hide_den) & num.notna().to_numpy())
    primary_num, primary_den = hide_num.copy(), hide_den.copy()

    withheld: set[tuple[str, str, str]] = set()
    if rule.secondary:
        withheld = _secondary(f, region_of, num, den, ruled, hide_num, hide_den)

    hide_val = (hide_num | hide_den) & f["value"].notna().to_numpy()
    hide_any = hide_num | hide_den | (thin & ruled)
    published = f.copy()
    published.loc[hide_num, "numerator"] = np.nan
    published.loc[hide_den, "denominator"] = np.nan
    published.loc[hide_val | hide_any, "value"] = np.nan
    published.loc[hide_any & f["status"].eq(OK).to_numpy(), "status"] = SUPPRESSED
    removed = _removed(
        f,
        (hide_num, primary_num),
        (hide_den, primary_den),
        (hide_val | hide_any, primary_num | primary_den),
    )
    return Disclosure(
        published=published,
        withheld_areas=frozenset(withheld),
        removed=removed,
        rule=rule,
    )


def _secondary(
    f: pd.DataFrame,
    region_of: pd.Series,
    num: pd.Series,
    den: pd.Series,
    ruled: np.ndarray,
    hide_num: np.ndarray,
    hide_den: np.ndarray,
) -> set[tuple[str, str, str]]:
    """Secondary suppression: mark in `hide_num` and `hide_den`, in place, the further counts
    that keep withheld ones from being worked out by difference from a region's or England's
    sum, until none is needed; return the areas whose own figure is withheld instead."""
    withheld: set[tuple[str, str, str]] = set()
    contributes = (f["status"].eq(OK) & num.notna() & den.notna() & (den > 0)).to_numpy() & ruled
    region = f["la_code"].map(region_of).to_numpy(dtype=object)
    levels = [region, np.full(len(f), ENGLAND, dtype=object)]
    changed = True
    while changed:
        changed = False
        for area in levels:
            for hidden, size in ((hide_num, num), (hide_den, den)):
                more, lone = _complements(f, area, contributes, hidden, size)
                if len(more):
                    hidden[more] = True
                    changed = True
                withheld |= lone
    return withheld


def _removed(
    f: pd.DataFrame,
    numerators: tuple[np.ndarray, np.ndarray],
    denominators: tuple[np.ndarray, np.ndarray],
    values: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """Every number withheld (REMOVED_COLUMNS), with its true value; each field comes with the
    rows withheld and those withheld first-hand (the rest are secondary)."""
    removed = []
    for name, (hidden, first) in (
        ("numerator", numerators),
        ("denominator", denominators),
        ("value", values),
    ):
        rows = hidden & f[name].notna().to_numpy()
        part = f.loc[rows, ["la_code", "period", "indicator_id", name]].rename(
            columns={name: "value"}
        )
        part.insert(3, "field", name)
        part["reason"] = np.where(first[rows], "primary", "secondary")
        removed.append(part)
    return pd.concat(removed, ignore_index=True)[REMOVED_COLUMNS]


def _complements(
    f: pd.DataFrame,
    area: np.ndarray,
    contributes: np.ndarray,
    hidden: np.ndarray,
    size: pd.Series,
) -> tuple[np.ndarray, set[tuple[str, str, str]]]:
    """Rows to withhold so that no area group has exactly one withheld contributor, and the
    groups where no other contributor exists (the area's figure is withheld instead)."""
    has_area = pd.notna(area)
    rows = contributes & has_area
    if not rows.any():
        return np.array([], dtype=int), set()
    g = pd.DataFrame(
        {
            "area": area[rows],
            "period": f["period"].to_numpy()[rows],
            "indicator_id": f["indicator_id"].to_numpy()[rows],
            "la_code": f["la_code"].to_numpy()[rows],
            "size": size.to_numpy()[rows],
            "hidden": hidden[rows],
            "row": np.flatnonzero(rows),
        }
    )
    keys = ["area", "period", "indicator_id"]
    n_hidden = g.groupby(keys, sort=False)["hidden"].transform("sum")
    lone = g[n_hidden.eq(1)]
    if lone.empty:
        return np.array([], dtype=int), set()
    # the next smallest; a zero last, as a sum with zero would give the withheld count away
    candidates = lone[~lone["hidden"]].assign(zero=lambda d: d["size"].le(0))
    candidates = candidates.sort_values([*keys, "zero", "size", "la_code"], kind="stable")
    chosen = candidates.drop_duplicates(keys)
    groups = set(map(tuple, lone[keys].drop_duplicates().itertuples(index=False, name=None)))
    served = set(map(tuple, chosen[keys].itertuples(index=False, name=None)))
    return chosen["row"].to_numpy(dtype=int), {_area_key(k) for k in groups - served}


def _area_key(k: tuple) -> tuple[str, str, str]:
    return (str(k[0]), str(k[1]), str(k[2]))
