"""The embedded demonstration dataset: fictional regions and LAs, seeded, same seed same bytes.

Levels are set from England's published figures (DfE children in need, children looked after
and workforce statistics, 2024-25): referrals about 520 per 10,000 children a year, 22% of them
re-referrals, children looked after about 67 per 10,000, and so on. Each fictional LA has its own
level of need, a persistent distance from England, a trend and quarter-to-quarter noise. Codes
are ``ZR1``-``ZR3`` for regions and ``ZL101``... for LAs so they cannot be taken for ONS codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import Period, window
from pipeline.edges import demo_cycle
from pipeline.edges.files import write_text_atomic
from pipeline.edges.init_dataset import PRIORITIES_HELP

LATEST = Period(2026, 2)
N_PERIODS = 8
#: the LA that returns its own small numbers as c rather than leave that to Tartan
SELF_SUPPRESSING_LA = "ZL201"
FAULTY_LA = "ZL203"

REGIONS = [
    ("ZR1", "Northmoor Demonstration Region", 10),
    ("ZR2", "Midvale Demonstration Region", 8),
    ("ZR3", "Southdown Demonstration Region", 12),
]
LA_NAMES = [
    "Aldermoor",
    "Brackenford",
    "Carrowdale",
    "Dunmere Vale",
    "Elmsworth",
    "Fallowby",
    "Greyhollow",
    "Harrowmere",
    "Islingbrook",
    "Juniper Fells",
    "Kestrelwick",
    "Larkspur Downs",
    "Marrowgate",
    "Netherfold",
    "Oakenshaw Vale",
    "Pennyridge",
    "Quarrington Moor",
    "Rookhaven",
    "Saltmarsh Cross",
    "Thistlecombe",
    "Underbarrow Heath",
    "Vennford",
    "Willowmere",
    "Yarrowfield",
    "Ashcombe Fen",
    "Bramblewick",
    "Coldharbour Reach",
    "Dovecote Hills",
    "Emberley",
    "Foxhollow",
]
CLOSENESS = ["Very close", "Close", "Somewhat close", "Not close"]


@dataclass(frozen=True)
class Spec:
    """How one indicator is simulated.

    kind: 'rate' (per 10,000 children), 'pct' (numerator of a denominator) or 'ratio'.
    base: England's level (a proportion for pct). spread: LA-to-LA spread on the logit or log
    scale. need: how strongly the LA's level of need moves it. base_of: what the denominator is
    (the numerator of another indicator, or children per 10,000 a year for 'per_pop').
    """

    kind: str
    base: float
    spread: float
    need: float = 0.0
    den_of: str | None = None
    den_per_10k: float = 0.0
    den_factor: float = 1.0


SPECS: dict[str, Spec] = {
    "referrals_rate": Spec("rate", 520, 0.15, need=0.35),
    "rereferrals_pct": Spec("pct", 0.22, 0.25, den_of="referrals_rate"),
    "referrals_nfa_pct": Spec("pct", 0.065, 0.6, den_of="referrals_rate"),
    "assessments_45_days_pct": Spec("pct", 0.83, 0.55, den_per_10k=480, need=0.3),
    "s47_rate": Spec("rate", 175, 0.2, need=0.35),
    "icpc_15_days_pct": Spec("pct", 0.78, 0.5, den_per_10k=62, need=0.3),
    "cpp_rate": Spec("rate", 41, 0.2, need=0.3),
    "cpp_second_time_pct": Spec("pct", 0.24, 0.25, den_per_10k=55, need=0.3),
    "cpp_2_years_pct": Spec("pct", 0.035, 0.45, den_of="cpp_rate"),
    "cin_rate": Spec("rate", 330, 0.15, need=0.3),
    "cin_plan_up_to_date_pct": Spec("pct", 0.86, 0.5, den_per_10k=120, need=0.3),
    "cin_visits_pct": Spec("pct", 0.88, 0.5, den_per_10k=120, need=0.3),
    "cla_rate": Spec("rate", 67, 0.2, need=0.35),
    "cla_3_placements_pct": Spec("pct", 0.10, 0.25, den_of="cla_rate"),
    "cla_long_term_stability_pct": Spec("pct", 0.70, 0.3, den_of="cla_rate", den_factor=0.3),
    "cla_health_assessment_pct": Spec("pct", 0.89, 0.5, den_of="cla_rate", den_factor=0.75),
    "cla_missing_pct": Spec("pct", 0.11, 0.35, den_of="cla_rate", den_factor=1.3),
    "care_leavers_eet_pct": Spec("pct", 0.56, 0.25, den_of="cla_rate", den_factor=0.45),
    "care_leavers_accommodation_pct": Spec("pct", 0.88, 0.4, den_of="cla_rate", den_factor=0.45),
    "care_leavers_in_touch_pct": Spec("pct", 0.93, 0.5, den_of="cla_rate", den_factor=0.45),
    "sw_vacancy_pct": Spec("pct", 0.17, 0.35, den_per_10k=26),
    "sw_agency_pct": Spec("pct", 0.16, 0.4, den_per_10k=22),
    "sw_turnover_pct": Spec("pct", 0.16, 0.3, den_per_10k=22),
    "sw_caseload": Spec("ratio", 16.5, 0.12, den_per_10k=17),
}
NOTES = [
    "Provisional: figures to be confirmed after the data cleanse.",
    "Includes a change of case management system during the quarter.",
    "Rolling 12 months as defined in the regional return guidance.",
]


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def generate(seed: int = 2026, catalogue: Catalogue | None = None) -> dict[str, pd.DataFrame]:
    """All demo frames: local_authorities, statistical_neighbours, population, returns.

    One random generator, drawn from in a fixed order (sizes, need, growth, each indicator's
    levels, the counts, then the notes): same seed, same frames."""
    rng = np.random.default_rng(seed)
    las = _local_authorities()
    n_la = len(las)
    pop = np.round(np.exp(rng.normal(math.log(62_000), 0.45, n_la))).astype(int)
    pop = np.clip(pop, 18_000, 210_000)
    need = rng.normal(0, 1, n_la)
    sns = _neighbours(las, need, pop)
    periods = window(LATEST, N_PERIODS)
    population = _population(rng, las, pop, periods)
    latent_of = _latent(rng, need, periods)
    counts = _counts(rng, las, need, population, periods, latent_of)
    returns = _gaps_and_notes(rng, _returns(counts, catalogue), periods)
    return {
        "local_authorities": las,
        "statistical_neighbours": sns,
        "population": population,
        "returns": returns,
    }


def _local_authorities() -> pd.DataFrame:
    """The fictional LAs, region by region: la_code, la_name, region_code, region_name."""
    rows = []
    names = iter(LA_NAMES)
    for r_i, (rcode, rname, n) in enumerate(REGIONS, start=1):
        for k in range(1, n + 1):
            rows.append((f"ZL{r_i}{k:02d}", next(names), rcode, rname))
    return pd.DataFrame(rows, columns=["la_code", "la_name", "region_code", "region_name"])


def _neighbours(las: pd.DataFrame, need: np.ndarray, pop: np.ndarray) -> pd.DataFrame:
    """Statistical neighbours: nearest 10 on need and size, across all regions."""
    n_la = len(las)
    feats = np.column_stack([need, (np.log(pop) - np.log(pop).mean()) / np.log(pop).std()])
    dist = np.sqrt(((feats[:, None, :] - feats[None, :, :]) ** 2).sum(-1))
    cut = np.quantile(dist[dist > 0], [0.08, 0.2, 0.4])
    sn_rows = []
    for i in range(n_la):
        order = [j for j in np.argsort(dist[i], kind="stable") if j != i][:10]
        for rank, j in enumerate(order, start=1):
            label = CLOSENESS[int(np.searchsorted(cut, dist[i, j]))]
            sn_rows.append((las.la_code[i], rank, las.la_code[j], label))
    return pd.DataFrame(
        sn_rows, columns=["la_code", "neighbour_rank", "neighbour_la_code", "closeness"]
    )


def _population(
    rng: np.random.Generator, las: pd.DataFrame, pop: np.ndarray, periods: list[Period]
) -> pd.DataFrame:
    """Each LA's 0-17 population in each year the periods start in, growing at its own rate."""
    n_la = len(las)
    years = sorted({p.start_year for p in periods})
    pop_rows = []
    growth = rng.normal(0.002, 0.006, n_la)
    for y in years:
        for i in range(n_la):
            pop_rows.append((las.la_code[i], y, round(pop[i] * (1 + growth[i]) ** (y - years[0]))))
    return pd.DataFrame(pop_rows, columns=["la_code", "year", "population_0_17"])


def _latent(
    rng: np.random.Generator, need: np.ndarray, periods: list[Period]
) -> dict[tuple[str, int, int], float]:
    """(indicator, LA index, period index) -> the LA's latent level: per-LA persistent effect
    and trend per indicator, then each quarter's noise."""
    n_la = len(need)
    t = np.arange(N_PERIODS)
    recs = []
    for ind_id, spec in SPECS.items():
        effect = rng.normal(0, spec.spread, n_la) + spec.need * need
        trend = rng.normal(0, 0.03, n_la)
        noise = rng.normal(0, 0.04, (n_la, N_PERIODS))
        latent = effect[:, None] + trend[:, None] * t[None, :] + noise
        for i in range(n_la):
            for k, p in enumerate(periods):
                recs.append((ind_id, i, k, p, float(latent[i, k])))
    return {(r[0], r[1], r[2]): r[4] for r in recs}


def _counts(
    rng: np.random.Generator,
    las: pd.DataFrame,
    need: np.ndarray,
    population: pd.DataFrame,
    periods: list[Period],
    latent_of: dict[tuple[str, int, int], float],
) -> list[tuple[str, Period, str, float, float]]:
    """(la_code, period, indicator_id, numerator, denominator) for every LA, period and
    indicator, drawn around each LA's latent level."""
    pop_by = population.set_index(["la_code", "year"])["population_0_17"]
    nums: dict[tuple[str, int, int], float] = {}
    out = []
    for ind_id, spec in SPECS.items():  # SPECS order puts every den_of before its users
        for i in range(len(las)):
            for k, p in enumerate(periods):
                popn = int(pop_by[(las.la_code[i], p.start_year)])
                lat = latent_of[(ind_id, i, k)]
                base = nums[(spec.den_of, i, k)] if spec.den_of else 0
                num, den = _draw(rng, spec, popn, lat, float(need[i]), base)
                nums[(ind_id, i, k)] = num
                out.append((las.la_code[i], p, ind_id, num, den))
    return out


def _draw(
    rng: np.random.Generator, spec: Spec, popn: int, lat: float, need: float, base: float
) -> tuple[float, float]:
    """One figure's numerator and denominator: for a 'pct' of another indicator, `base` is
    that indicator's numerator."""
    if spec.kind == "rate":
        den = popn
        num = int(rng.poisson(popn * spec.base / 10_000 * math.exp(lat)))
    elif spec.kind == "pct":
        if spec.den_of:
            den = round(base * spec.den_factor)
        else:
            mu = popn * spec.den_per_10k / 10_000 * math.exp(0.3 * need)
            den = int(rng.poisson(mu))
        prob = float(_expit(np.array(_logit(spec.base) + lat)))
        num = int(rng.binomial(max(den, 0), prob))
    else:  # ratio: cases per case-holding social worker (FTE, one decimal)
        den = round(popn * spec.den_per_10k / 10_000 * float(rng.normal(1, 0.03)), 1)
        num = round(den * spec.base * math.exp(lat))
    return num, den


def _returns(
    counts: list[tuple[str, Period, str, float, float]], catalogue: Catalogue | None
) -> pd.DataFrame:
    """The returns' rows as LAs send them (text cells), with each row's `_period`."""
    cat_decimals = {i.id: i.decimals for i in catalogue} if catalogue else {}
    scale = {"rate": 10_000, "pct": 100, "ratio": 1}
    rows = []
    for la_code, p, ind_id, num, den in counts:
        spec = SPECS[ind_id]
        value = round(num / den * scale[spec.kind], cat_decimals.get(ind_id, 1)) if den else None
        status = ""
        # Returns come to the region unsuppressed, under its data-sharing agreement (Tartan
        # withholds small numbers before publishing); one LA withholds its own, as some do.
        if la_code == SELF_SUPPRESSING_LA and spec.kind != "ratio" and 1 <= num <= 5:
            status = "c"
        rows.append(
            {
                "la_code": la_code,
                "time_period": p.time_period,
                "time_identifier": p.time_identifier,
                "indicator_id": ind_id,
                "numerator": "" if status else _fmt(num),
                "denominator": _fmt(den),
                "value": "" if status or value is None else _fmt(value),
                "status": status,
                "note": "",
                "_period": p,
            }
        )
    return pd.DataFrame(rows)


def _gaps_and_notes(
    rng: np.random.Generator, returns: pd.DataFrame, periods: list[Period]
) -> pd.DataFrame:
    """One LA's figures not available for two quarters ('x'), and a few notes."""
    # One LA could not supply CIN visits for its first two quarters: returned as 'x'.
    gap = (
        returns["la_code"].eq("ZL305")
        & returns["indicator_id"].eq("cin_visits_pct")
        & returns["_period"].isin(periods[:2])
    )
    returns.loc[gap, ["numerator", "denominator", "value"]] = ""
    returns.loc[gap, "status"] = "x"
    returns.loc[gap, "note"] = "Visits not recorded in the old case management system."
    for j, idx in enumerate(rng.choice(len(returns), 6, replace=False)):
        returns.loc[returns.index[idx], "note"] = NOTES[j % len(NOTES)]
    return returns


def _fmt(x: float | int) -> str:
    if isinstance(x, float) and not x.is_integer():
        return repr(x)
    return str(int(x))


def _break(ret: pd.DataFrame) -> pd.DataFrame:
    """The deliberately faulty return: the errors LAs really make."""
    ret = ret.copy()
    ass = ret.index[ret["indicator_id"].eq("assessments_45_days_pct")][0]
    den = int(ret.at[ass, "denominator"])
    ret.at[ass, "numerator"] = str(den + 37)  # more completed in time than completed at all
    ret.at[ass, "value"] = _fmt(round((den + 37) / den * 100, 1))
    typo = ret.index[ret["indicator_id"].eq("cla_3_placements_pct")][0]
    ret.at[typo, "indicator_id"] = "cla_placements_3plus"  # not in the catalogue
    dup = ret[ret["indicator_id"].eq("cpp_rate")]
    return pd.concat([ret, dup], ignore_index=True)


DATASET_YAML = """\
# Tartan demonstration data: generated by `tartan demo-data`; every name and code is fictional.
name: Tartan demonstration data
demonstration: true
banner: "Demonstration data: fictional local authorities"
seed: {seed}
# Returns for periods outside this window are not accepted.
reporting_window: {{first: {first}, last: {last}}}
return_deadline: {{weeks_after_quarter: 6}}  # returns/received.yaml records when each came
"""

README = """\
# Demonstration data (fictional)

Generated by `tartan demo-data --seed {seed}`. Three fictional regions (ZR1-ZR3) of 8 to 12
fictional local authorities (ZL101...), their 0-17 populations, 10 statistical neighbours each,
8 financial quarters of returns ({first} to {last}) for the indicators in
`data_contracts/indicators.yaml`, and each region's priorities (`priorities.yaml`). Levels follow
England's published figures; the places do not exist. The {faulty} return for {last} has
deliberate errors so validation has something to report. In {last}, ZL102 and ZL304 resubmitted
(`_v2`), ZL207's return is provisional and ZL310's came late (`returns/received.yaml`).
Regenerating with the same seed gives the same bytes.
"""


#: the demonstration regions' priorities: a dataset's own priorities.yaml, as `tartan init` makes
#: one (empty) for a real region
PRIORITIES = (
    PRIORITIES_HELP
    + """\
# The demonstration regions' priorities (ZR1-ZR3), written by `tartan demo-data`.
version: "1.0.0"
amber_within: 0.10
regions:
  ZR1:
    - id: front-door-rereferrals
      title: Fewer children re-referred within a year
      indicator: rereferrals_pct
      target: 22.0
    - id: placement-stability
      title: Fewer children in care moving placement three or more times
      indicator: cla_3_placements_pct
      target: 10.0
    - id: care-leavers-eet
      title: More care leavers in education, employment or training
      indicator: care_leavers_eet_pct
      target: 55.0
  ZR2:
    - id: repeat-plans
      title: Fewer child protection plans for a second or later time
      indicator: cpp_second_time_pct
      target: 25.0
    - id: caseloads
      title: Manageable social worker caseloads
      indicator: sw_caseload
      target: 17.0
    - id: health-assessments
      title: Annual health assessments for children in care
      indicator: cla_health_assessment_pct
      target: 90.0
  ZR3:
    - id: workforce-turnover
      title: A stable social work workforce
      indicator: sw_turnover_pct
      target: 16.0
    - id: timely-assessments
      title: Assessments completed within 45 working days
      indicator: assessments_45_days_pct
      target: 85.0
    - id: timely-conferences
      title: Initial child protection conferences within 15 working days
      indicator: icpc_15_days_pct
      target: 75.0
"""
)


#: the demonstration's one regional commentary (commentary/<period>/<region>.md): fictional
COMMENTARY = """\
---
author: Northmoor assistant directors' network (fictional, for the demonstration)
date: 2026-11-20
---
This commentary is invented for the demonstration data: no real council wrote it.

The network looked at the quarter on 18 November. **Re-referrals** remain the region's main
concern: the front-door review agreed in the spring reports in January.

- Two LAs changed their case management systems this quarter; their assessment timeliness
  may dip before it settles.
- Care leavers' accommodation is steady; the network will share Harrowmere's practice.
"""


#: one LA's commentary on its exceptions (commentary/<period>/<LA>.md): fictional, and on some
#: of its exceptions only, so that its pack shows what is still owed
LA_COMMENTARY = """\
---
author: Head of performance, Aldermoor (fictional, for the demonstration)
date: 2026-11-18
---
This commentary is invented for the demonstration data: no real council wrote it.

## assessments_45_days_pct: assessments within 45 working days

Two social work teams merged in August and the backlog of open assessments moved with them.
Weekly tracking since October has brought the open list down from 140 to 60.

## icpc_15_days_pct

Conference chairs were short for six weeks; a third chair started in October and every
conference since has been held within 15 working days.

## cpp_second_time_pct

Step-down from child protection now goes through a multi-agency panel, which we think keeps
second plans low. We would be glad to share the panel's terms of reference with the region.

## cla_health_assessment_pct

Not an exception this quarter, but the new health partner's returns arrive late: figures may
be revised next quarter.
"""


def write(out_dir: Path, seed: int = 2026, catalogue: Catalogue | None = None) -> list[Path]:
    """Write the demo dataset under `out_dir`; files whose bytes are unchanged are not rewritten."""
    frames = generate(seed, catalogue)
    periods = window(LATEST, N_PERIODS)
    written = []

    def put(rel: str, text: str) -> None:
        path = out_dir / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_text_atomic(path, text)
        written.append(path)

    put(
        "dataset.yaml",
        DATASET_YAML.format(seed=seed, first=periods[0].slug, last=periods[-1].slug),
    )
    put("priorities.yaml", PRIORITIES)
    put("peer_challenge.yaml", demo_cycle.peer_challenge_yaml())
    put(f"commentary/{LATEST.slug}/ZR1.md", COMMENTARY)
    put(f"commentary/{LATEST.slug}/ZL101.md", LA_COMMENTARY)
    put(
        "README.md",
        README.format(seed=seed, first=periods[0].label, last=periods[-1].label, faulty=FAULTY_LA),
    )
    for name in ("local_authorities", "statistical_neighbours", "population"):
        put(f"reference/{name}.csv", frames[name].to_csv(index=False, lineterminator="\n"))
    ret = frames["returns"]
    for (la_code, p), one in ret.groupby(["la_code", "_period"], sort=True):
        one = one.drop(columns="_period").reset_index(drop=True)
        if la_code == FAULTY_LA and p == LATEST:
            one = _break(one)
        put(
            f"returns/{p.slug}/{la_code}_{p.slug}.csv", one.to_csv(index=False, lineterminator="\n")
        )
    demo_cycle.return_cycle(put, ret, LATEST)
    return written
