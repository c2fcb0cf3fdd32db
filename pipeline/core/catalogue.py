"""The indicator catalogue: what each measure is, how it is computed and which way is better."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pipeline.core.errors import ConfigError

POLARITIES = ("high", "low", "neutral")
#: how a figure's numerator is counted: children out of children (binomial: percentages), events
#: in a population (poisson: rates), or no count model (a mean caseload, full-time equivalents)
COUNT_MODELS = ("binomial", "poisson", "none")
#: each unit's count model unless the entry says otherwise
DEFAULT_COUNT_MODEL = {"percentage": "binomial", "rate per 10,000": "poisson", "ratio": "none"}
#: unit -> (scale the value is computed with, whether numerator <= denominator must hold)
UNITS: dict[str, tuple[int, bool]] = {
    "percentage": (100, True),
    "rate per 10,000": (10_000, False),
    "ratio": (1, False),
}


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    short_label: str
    theme: str
    unit: str
    polarity: str
    decimals: int
    scale: int
    valid_min: float
    valid_max: float | None
    description: str
    source: str
    #: how its figure is counted, for confidence intervals and tests (``COUNT_MODELS``)
    count_model: str = "none"

    @property
    def numerator_within_denominator(self) -> bool:
        return UNITS[self.unit][1]

    @property
    def judged(self) -> bool:
        """Whether a higher or lower value is better (neutral indicators are not banded)."""
        return self.polarity != "neutral"

    def compute(self, numerator: float, denominator: float) -> float:
        """The value as published: numerator / denominator x scale, rounded to `decimals`.

        NaN when the denominator is zero (there is no value to publish).
        """
        if not denominator:
            return math.nan
        return round(numerator / denominator * self.scale, self.decimals)

    def format(self, value: float | None) -> str:
        """The value as a reader sees it: decimals, thousands separator, % for percentages."""
        try:
            if value is None or math.isnan(value):
                return ""
        except TypeError:  # pd.NA and other missing markers
            return ""
        text = f"{value:,.{self.decimals}f}"
        return f"{text}%" if self.unit == "percentage" else text

    def with_unit(self, value: float | None) -> str:
        """The value with its unit when it has one beyond %: '67.0 per 10,000 children'."""
        text = self.format(value)
        if not text or self.unit == "percentage" or not self.unit_suffix:
            return text
        return f"{text} {self.unit_suffix}"

    def difference(self, amount: float) -> str:
        """A gap between two values in the indicator's units: '2.0 percentage points'."""
        text = self.format(abs(amount)).rstrip("%")
        if self.unit == "percentage":
            return f"{text} percentage points"
        return f"{text} {self.unit_suffix}" if self.unit_suffix else text

    @property
    def unit_suffix(self) -> str:
        return {"percentage": "%", "rate per 10,000": "per 10,000 children"}.get(self.unit, "")


def _indicator(raw: Mapping[str, object], where: str) -> Indicator:
    required = ("id", "label", "theme", "unit", "polarity", "decimals", "valid_range")
    missing = [k for k in required if k not in raw]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    unit = str(raw["unit"])
    if unit not in UNITS:
        raise ConfigError(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
    polarity = str(raw["polarity"])
    if polarity not in POLARITIES:
        raise ConfigError(f"{where}: polarity {polarity!r} is not one of {', '.join(POLARITIES)}")
    scale = raw.get("scale", UNITS[unit][0])
    if scale != UNITS[unit][0] or isinstance(scale, bool):
        raise ConfigError(f"{where}: scale {scale!r} does not match unit {unit!r}")
    decimals = raw["decimals"]
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 3:
        raise ConfigError(f"{where}: decimals {decimals!r} is not a whole number from 0 to 3")
    lo, hi = _valid_range(raw["valid_range"], where)
    model = raw.get("count_model", DEFAULT_COUNT_MODEL[unit])
    if model not in COUNT_MODELS or (model != "none" and unit == "ratio"):
        allowed = ", ".join(COUNT_MODELS) if unit != "ratio" else "none"
        raise ConfigError(f"{where}: count_model {model!r} is not one of {allowed} (unit {unit})")
    return Indicator(
        id=str(raw["id"]),
        label=str(raw["label"]),
        short_label=str(raw.get("short_label", raw["label"])),
        theme=str(raw["theme"]),
        unit=unit,
        polarity=polarity,
        decimals=decimals,
        scale=int(scale),  # type: ignore[call-overload]
        valid_min=lo,
        valid_max=hi,
        description=str(raw.get("description", "")).strip(),
        source=str(raw.get("source", "")).strip(),
        count_model=str(model),
    )


def _valid_range(rng: object, where: str) -> tuple[float, float | None]:
    """[min, max] as numbers: finite, zero or more (no value is ever negative), min <= max;
    max null for no upper bound. A NaN bound would let every value through unchecked."""
    expected = "expected [min, max] with 0 <= min <= max, e.g. [0, 100] (max null: no upper bound)"
    if not isinstance(rng, list | tuple) or len(rng) != 2:
        raise ConfigError(f"{where}: valid_range must be [min, max] (max may be null)")
    bounds = []
    for bound in rng:
        number = isinstance(bound, int | float) and not isinstance(bound, bool)
        if bound is not None and not (number and 0 <= bound < math.inf):  # type: ignore[operator]
            raise ConfigError(f"{where}: valid_range bound {bound!r} cannot be used; {expected}")
        bounds.append(bound)
    lo, hi = bounds
    if lo is None:
        raise ConfigError(f"{where}: valid_range has no minimum; {expected}")
    if hi is not None and hi < lo:
        raise ConfigError(f"{where}: valid_range [{lo}, {hi}] has nothing in it; {expected}")
    return float(lo), None if hi is None else float(hi)


class Catalogue:
    """Indicators in catalogue order, grouped into themes in order of first appearance."""

    def __init__(self, indicators: Iterable[Indicator], version: str = ""):
        self._by_id: dict[str, Indicator] = {}
        for ind in indicators:
            if ind.id in self._by_id:
                raise ConfigError(f"indicator catalogue: id {ind.id!r} appears twice")
            self._by_id[ind.id] = ind
        self.version = version

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, object]],
        version: str = "",
        lines: Sequence[int] = (),
        places: Sequence[str] = (),
    ) -> Catalogue:
        """The catalogue from its entries; `lines` (when known) the line each entry starts on,
        or `places` what each entry is called (its file and id), for problems to name."""

        def where(i: int) -> str:
            if i < len(places):
                return places[i]
            return f"indicator catalogue entry {i + 1}" + (
                f" (line {lines[i]})" if i < len(lines) else ""
            )

        return cls((_indicator(r, where(i)) for i, r in enumerate(records)), version)

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id

    def __getitem__(self, indicator_id: str) -> Indicator:
        return self._by_id[indicator_id]

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    @property
    def themes(self) -> list[str]:
        return list(dict.fromkeys(i.theme for i in self))

    def in_theme(self, theme: str) -> list[Indicator]:
        return [i for i in self if i.theme == theme]
