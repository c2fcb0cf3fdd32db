"""Statistical disclosure control: small numbers are withheld before anything is published.

The rule (``data_contracts/disclosure.yaml``; the defaults are DfE's for children's social care):
- **Primary**: a numerator or denominator from 1 to 5 (``smallest`` to ``largest``) is withheld;
  zero is shown. A percentage or rate is withheld with its numerator, and whenever its
  denominator is withheld or below ``min_denominator``: a handful in a small cohort can be worked
  out from the percentage, or from the denominator less the numerator. Where the value is
  withheld the numerator is too, or the value could be worked back from it.
- **Implied counts**: a value is a count in disguise. Where the numerator is blank, the counts
  the value allows (numerator = value x denominator / scale, over every value that rounds to the
  one published, at the indicator's ``decimals``) are judged like a numerator: if any whole number
  from 1 to 5 is among them, the value is withheld (7.5% of 40 can only be 3). A rate per 10,000
  children is judged on the LA's child population too (public, and printed in its pack), whatever
  its denominator cell holds. Where the denominator is blank, the denominators a value and its
  numerator allow are judged likewise: from 1 to 5 or below ``min_denominator`` withholds both.
- **Marked rows**: a row whose status is a symbol (c, x, z, low, k or u) has no figure, and
  publishes no number at all, whatever the LA left in its cells: EES writes a symbol *in place of*
  the figure (k: rounds to zero, u: low reliability alike), and no page shows a figure with a
  symbol. Its numbers are listed as withheld (``primary``).
- **Secondary**: region and England figures are the ratio of sums of *all* their LAs' figures,
  so with every other LA's numerator and denominator shown, one withheld numerator could be
  recovered by difference. Wherever exactly one of an area's contributing LAs has its numerator
  withheld (or its denominator), the LA with the next smallest non-zero numerator (denominator)
  is withheld too, so only a sum of at least two can be worked out. Regions first, then England,
  until nothing changes. Where no other LA contributes, the area's own figure is withheld.
- Withheld figures are blank with status ``c`` (EES's symbol for confidential), primary and
  secondary alike, so a reader cannot tell which cell was the small one.
- Indicators in ``exempt`` (e.g. workforce FTEs, which DfE publishes unsuppressed) are left as
  returned, bar marked rows.
- A validation finding quotes ``c`` for a figure this rule withholds, on an accepted return and,
  judged by :meth:`Screen.primary` on its cells as sent, on a return not accepted
  (``pipeline.orchestration.validation``).

Everything that is published is computed from the result: bands, ranks, SN comparators, changes
and trends of LAs; areas' changes and trends compare like with like on LAs with published figures
at both ends. Only the areas' own current figures use the withheld cells, and those are what the
secondary suppression protects.
"""

from __future__ import annotations

import math
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
#: units whose denominator is the LA's child population (a rate per 10,000 children)
PER_CHILD_UNITS = frozenset({"rate per 10,000"})


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
        smallest = _whole(counts.get("smallest", 1), where, "counts.smallest")
        largest = _whole(counts.get("largest", 5), where, "counts.largest")
        min_den = _number(raw.get("min_denominator", 10), where, "min_denominator")
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


def _number(raw: object, where: str, name: str) -> float:
    """A setting that must be a finite number of zero or more (YAML's .nan and .inf are not)."""
    try:
        if isinstance(raw, bool):
            raise TypeError(raw)
        x = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise ConfigError(
            f"{where}: counts and min_denominator must be numbers: {name} is {raw!r}"
        ) from e
    if not math.isfinite(x) or x < 0:
        raise ConfigError(f"{where}: {name} must be a finite number of zero or more, not {raw!r}")
    return x


def _whole(raw: object, where: str, name: str) -> int:
    """A count setting: a whole number (1, or 5.0; not 2.5, .nan or .inf)."""
    x = _number(raw, where, name)
    if not x.is_integer():
        raise ConfigError(f"{where}: {name} must be a whole number; got {raw!r}")
    return int(x)


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


def suppress(
    figures: pd.DataFrame,
    region_of: pd.Series,
    rule: Rule,
    catalogue: Catalogue,
    population: pd.DataFrame | None = None,
) -> Disclosure:
    """Apply `rule` to `figures` (FIGURE_COLUMNS): see the module's docstring.

    `region_of` maps la_code to region_code; LAs not in it are in England only. `catalogue`
    gives each indicator's scale and decimals, `population` (reference data: la_code,
    population_0_17) the child populations a rate per 10,000 children is judged on.
    """
    f = figures.reset_index(drop=True)
    num = pd.to_numeric(f["numerator"], errors="coerce")
    den = pd.to_numeric(f["denominator"], errors="coerce")
    ruled = ~f["indicator_id"].isin(rule.exempt).to_numpy()
    first = Screen.of(rule, catalogue, population).primary(f)
    hide_num, hide_den = first.numerator.copy(), first.denominator.copy()

    withheld: set[tuple[str, str, str]] = set()
    if rule.secondary:
        withheld = _secondary(f, region_of, num, den, ruled, hide_num, hide_den)

    hide_val = first.value | ((hide_num | hide_den) & f["value"].notna().to_numpy())
    published = f.copy()
    published.loc[hide_num, "numerator"] = np.nan
    published.loc[hide_den, "denominator"] = np.nan
    published.loc[hide_val, "value"] = np.nan
    hide_row = first.row | hide_num | hide_den
    published.loc[hide_row & f["status"].eq(OK).to_numpy(), "status"] = SUPPRESSED
    removed = _removed(
        f,
        (hide_num, first.numerator),
        (hide_den, first.denominator),
        (hide_val, first.value),
    )
    return Disclosure(
        published=published,
        withheld_areas=frozenset(withheld),
        removed=removed,
        rule=rule,
    )


@dataclass(frozen=True)
class Primary:
    """What the primary rule withholds, row by row (boolean arrays): each field, and the rows
    it withholds anything of, whose status becomes c (a row the LA marked keeps its symbol)."""

    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray
    row: np.ndarray

    @property
    def any(self) -> np.ndarray:
        """Rows with any figure withheld."""
        return self.numerator | self.denominator | self.value


@dataclass(frozen=True)
class Screen:
    """The primary rule, with what it reads besides a row's own cells: each indicator's scale
    and decimals (the rounding a published value hides its count behind), the indicators counted
    per child, and each LA's smallest and largest child population held."""

    rule: Rule
    rounding: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    per_child: frozenset[str] = frozenset()
    population: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, rule: Rule, catalogue: Catalogue, population: pd.DataFrame | None = None) -> Screen:
        """From the catalogue and reference data's populations (la_code, population_0_17, any
        years: a reader may take any of them)."""
        pops: dict[str, tuple[float, float]] = {}
        if population is not None and len(population):
            g = population.groupby("la_code")["population_0_17"]
            lo, hi = g.min(), g.max()
            pops = {str(la): (float(lo[la]), float(hi[la])) for la in lo.index}
        return cls(
            rule,
            {i.id: (float(i.scale), int(i.decimals)) for i in catalogue},
            frozenset(i.id for i in catalogue if i.unit in PER_CHILD_UNITS),
            pops,
        )

    def primary(self, f: pd.DataFrame) -> Primary:
        """The primary rule over `f`: la_code, indicator_id, numerator, denominator, value
        (numbers; anything else counts as blank) and status (blank, or the LA's symbol)."""
        rule = self.rule
        num, den, val = (pd.to_numeric(f[c], errors="coerce").to_numpy(dtype=float) for c in FIELDS)
        ind = f["indicator_id"].astype(str)
        ruled = ~ind.isin(rule.exempt).to_numpy()
        marked = f["status"].fillna(OK).astype(str).str.strip().ne(OK).to_numpy()
        scale = ind.map({k: v[0] for k, v in self.rounding.items()}).to_numpy(dtype=float)
        low, high = self._rounded_from(ind, val)
        with np.errstate(invalid="ignore", divide="ignore"):
            hide_den = ruled & _between(den, rule.smallest, rule.largest)
            thin = ruled & (den < rule.min_denominator)
            counts = ruled & np.isnan(num) & self._counts_small(ind, f["la_code"], den, low, high)
            # the denominators a value and its numerator allow (a numerator of 0 allows any)
            d_low, d_high = num * scale / high, np.where(low > 0, num * scale / low, np.inf)
            bases = ruled & np.isnan(den) & (num > 0) & ~np.isnan(val)
            bases &= np.isnan(scale) | self._denominators_small(d_low, d_high)
            hide_num = ruled & _between(num, rule.smallest, rule.largest)
        hide_num |= (thin | hide_den | bases) & ~np.isnan(num)
        row = hide_num | hide_den | thin | counts | bases
        return Primary(
            numerator=hide_num | (marked & ~np.isnan(num)),
            denominator=hide_den | (marked & ~np.isnan(den)),
            value=(row | marked) & ~np.isnan(val),
            row=row,
        )

    def _rounded_from(self, ind: pd.Series, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The least and greatest true values each published value may stand for: within half a
        unit of its last decimal place, both as published and as rounded on a page."""
        decimals = ind.map({k: v[1] for k, v in self.rounding.items()}).to_numpy(dtype=float)
        step = np.power(10.0, -decimals)
        shown = np.round(val / step) * step
        spread = step / 2 + np.abs(val - shown) + 1e-9 * np.maximum(1.0, np.abs(val))
        return val - spread, val + spread

    def _counts_small(
        self, ind: pd.Series, la: pd.Series, den: np.ndarray, low: np.ndarray, high: np.ndarray
    ) -> np.ndarray:
        """Rows whose value allows a count from `smallest` to `largest`: with its denominator
        and, for a rate per child, with the LA's child population. An indicator of unknown
        scale with a denominator could give any count."""
        rule = self.rule
        scale = ind.map({k: v[0] for k, v in self.rounding.items()}).to_numpy(dtype=float)
        out = _within(*_widened(low * den / scale, high * den / scale), rule.smallest, rule.largest)
        out |= np.isnan(scale) & ~np.isnan(den) & ~np.isnan(low)
        child = ind.isin(self.per_child).to_numpy()
        if child.any() and self.population:
            lo_pop = la.map({k: v[0] for k, v in self.population.items()}).to_numpy(dtype=float)
            hi_pop = la.map({k: v[1] for k, v in self.population.items()}).to_numpy(dtype=float)
            at = _within(low * lo_pop / scale, high * hi_pop / scale, rule.smallest, rule.largest)
            out |= child & at
        return out

    def _denominators_small(self, d_low: np.ndarray, d_high: np.ndarray) -> np.ndarray:
        """Rows whose possible denominators include one from `smallest` to `largest`, or one of
        at least 1 below `min_denominator`. A value sent rounded more coarsely than published
        (103333 for 31 of 3 per 10,000) allows no whole denominator, yet still shows one of
        about 3: then the whole numbers either side of what it allows are judged (``_widened``)."""
        rule = self.rule
        below = math.ceil(rule.min_denominator) - 1
        d_low, d_high = _widened(d_low, d_high)
        return _within(d_low, d_high, rule.smallest, rule.largest) | _within(
            d_low, d_high, 1, below
        )


def _between(x: np.ndarray, first: int, last: int) -> np.ndarray:
    """Whether each cell is from `first` to `last` (NaN: no)."""
    with np.errstate(invalid="ignore"):
        return (x >= first) & (x <= last)


def _widened(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The counts [low, high] allows, widened to the whole numbers either side where no whole
    number lies in it: a value sent more coarsely rounded than published fits no count
    exactly, yet still shows one near it."""
    with np.errstate(invalid="ignore"):
        none_whole = ~_within(low, high, 0, np.iinfo(np.int64).max) & (low >= 0)
        return np.where(none_whole, np.floor(low), low), np.where(none_whole, np.ceil(high), high)


def _within(low: np.ndarray, high: np.ndarray, first: int, last: int) -> np.ndarray:
    """Whether some whole number from `first` to `last` lies in [low, high] (NaN: no), with a
    hair's tolerance either side for floating point."""
    tol = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(high, posinf=0.0)))
    with np.errstate(invalid="ignore"):
        a = np.maximum(np.ceil(low - tol), first)
        b = np.minimum(np.floor(high + tol), last)
        return a <= b


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
