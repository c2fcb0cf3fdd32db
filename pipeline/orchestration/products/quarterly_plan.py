"""What every job of a quarterly run shares (`Plan`): the validated, benchmarked figures, and
the rows each job reads of them, looked up in tables grouped once per run (``grouped``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from pipeline.core import narrative
from pipeline.core.exceptions import ExceptionRule
from pipeline.core.frames import records
from pipeline.core.periods import parse_slug
from pipeline.core.questions import Bank
from pipeline.core.significance import INTERVAL_COLUMNS
from pipeline.core.vocabulary import OK
from pipeline.edges import briefing_config
from pipeline.edges.peer_challenge import PeerChallenge
from pipeline.orchestration.grouped import Grouped
from pipeline.orchestration.inputs import Inputs
from pipeline.orchestration.planning import NEIGHBOUR_COLUMNS, Planner, catalogue_records
from pipeline.orchestration.products.comparators import PUBLISHED, Chosen
from pipeline.orchestration.tables import FLOATS, FiguresText, RowsText
from pipeline.orchestration.validation import Validation

#: the trend periods a report shows, at most
TREND_PERIODS = 8
#: what a regional report's funnel plots read of every LA's published figures
FUNNEL_COLUMNS = ["la_code", "indicator_id", "numerator", "denominator", "value", "status"]


@dataclass
class Plan(Planner):
    """What every job of a quarterly run shares: the validated, benchmarked figures."""

    inputs: Inputs
    v: Validation
    bench: dict[str, pd.DataFrame]
    state: dict[tuple[str, str], str]  # (LA, period) -> accepted | not accepted
    available: list[str]  # periods with returns, in order
    priorities: dict[str, list]
    priorities_file: str
    site_footer: str
    summary: dict  # the validation's summary, as the index shows it
    run_key: str  # cache.run_key: what the run read and was shaped by
    comparators: Chosen = field(default_factory=Chosen)
    #: the confidence level of comparisons and tests (95 or 99.8)
    level: float = 95.0
    #: the dataset's commentary: (period, region or LA code) -> ``edges.commentary.Commentary``
    commentary: dict = field(default_factory=dict)
    #: which figures an LA's pack asks it to explain (dataset.yaml commentary_exceptions)
    exception_rule: ExceptionRule = field(default_factory=ExceptionRule)
    #: the dataset's peer-challenge groups (peer_challenge.yaml), None without the file
    groups: PeerChallenge | None = None
    #: the questions for peer challenge (data_contracts/questions.yaml): their closing words
    questions: Bank = field(default_factory=Bank)
    #: the returns tracker: one entry per own LA and period (``orchestration.tracker``)
    tracker: list[dict] = field(default_factory=list)
    #: what is worked out once per period (`per_period`), or region and window (`areas`), for
    #: every job that reads it
    made: dict[tuple, object] = field(default_factory=dict, init=False, repr=False)

    @property
    def provisional(self) -> set[tuple[str, str]]:
        """(LA, period) whose version the reports use is provisional (see `tracker`)."""
        return {(e["la_code"], e["period"]) for e in self.tracker if e["provisional"]}

    @property
    def england_label(self) -> str:
        if self.comparators.mode == PUBLISHED:
            return self.comparators.england_label
        return (
            "England (all demonstration LAs)" if self.inputs.reference.demonstration else "England"
        )

    @property
    def as_at(self) -> dict[str, str]:
        """Indicator id -> the date its published comparators are as at (none from returns)."""
        return self.comparators.dates if self.comparators.mode == PUBLISHED else {}

    @cached_property
    def briefing(self) -> dict:
        """The member briefing's measures, plain names and glossary, as every pack's slice
        carries them (``edges.briefing_config``): read when the first pack is planned, before
        any job runs."""
        s = self.s
        return briefing_config.load(s.contracts, s.data, self.inputs.catalogue).to_json()

    def record(self, period: str, window: list[str], params: dict, csv: str, inputs: str) -> dict:
        """A job's provenance (``Planner.record``): with published comparators, only the
        region is as at the report's quarter; the rest say their own dates (`comparators`)."""
        out = super().record(period, window, params, csv, inputs)
        if self.comparators.mode == PUBLISHED:
            out["comparators_as_at"] = {"region": period}
        return out

    def common_context(self) -> dict:
        """What every report's slice says of the catalogue, the contract and the comparators."""
        return {
            "catalogue": catalogue_records(self.inputs.catalogue),
            "catalogue_version": self.inputs.catalogue.version,
            "contract": self.inputs.contract.label,
            "disclosure": self.run_prov.get("disclosure", ""),
            "england_label": self.england_label,
            "comparators": self.comparators.to_json(),
            "level": self.level,
        }

    def window(self, period: str) -> list[str]:
        """The trend periods of a report for `period`: up to TREND_PERIODS, those held."""
        p = parse_slug(period)
        window = [q.slug for q in (p.shifted(-k) for k in range(TREND_PERIODS - 1, -1, -1))]
        return [w for w in window if w in self.available]

    @cached_property
    def published_areas(self) -> pd.DataFrame:
        """The region and England figures reports publish. Their numerators and denominators
        (sums over the LAs with figures) are left out: no report shows them, and with them one
        LA's figure could be worked out from the total and the others' (see disclosure
        control). Without them, an LA's resubmission changes a report elsewhere only when it
        moves a figure that report shows. Their confidence intervals go too: an interval's
        width gives away its denominator."""
        hidden = ["numerator", "denominator", *INTERVAL_COLUMNS]
        return self.bench["areas"].assign(**{c: float("nan") for c in hidden})

    def areas(self, region_code: str, window: list[str]) -> pd.DataFrame:
        """The region's and England's published figures over `window`: looked up once per
        region and window, for each of its LAs' jobs (which read them, never change them)."""
        key = ("areas", region_code, *window)
        if key not in self.made:
            self.made[key] = self.area_rows.rows([region_code, "england"], window)
        return self.made[key]

    @cached_property
    def area_rows(self) -> Grouped:
        """The published areas' figures by area and period."""
        return Grouped(self.published_areas, ["area_code", "period"])

    @cached_property
    def la_rows(self) -> Grouped:
        """The benchmarked LA figures by LA and period: `la_rows.rows(las, periods)`."""
        return Grouped(self.bench["las"], ["la_code", "period"])

    def neighbour_figures(self, neighbours: list[str], period: str) -> pd.DataFrame:
        """The figures of the LAs `neighbours` in `period` that a pack shows of them
        (NEIGHBOUR_COLUMNS), in the table's order."""
        positions = self.la_rows.positions(neighbours, [period])
        return self.text["neighbours"].frame.iloc[positions]

    @cached_property
    def neighbour_rows(self) -> Grouped:
        """The statistical neighbours (reference data) by LA."""
        return Grouped(self.inputs.reference.statistical_neighbours, ["la_code"])

    @cached_property
    def population_rows(self) -> Grouped:
        """The LAs' 0-17 populations (reference data) by LA."""
        return Grouped(self.inputs.reference.population, ["la_code"])

    @cached_property
    def region_names(self) -> dict[str, str]:
        """Region code -> name."""
        return dict(self.inputs.reference.regions.itertuples(index=False))

    @cached_property
    def la_names(self) -> dict[str, str]:
        """LA code -> name (the reference data's, made into a dict once)."""
        return self.inputs.reference.la_names

    @cached_property
    def region_of(self) -> dict[str, str]:
        """LA code -> region code (the reference data's, made into a dict once)."""
        return self.inputs.reference.region_of

    @cached_property
    def outcomes(self) -> dict[tuple[str, str], list]:
        """(LA, period) -> the validation's outcome of each return the LA sent for it."""
        out: dict[tuple[str, str], list] = {}
        for o in self.v.outcomes:
            out.setdefault((o.la_code, o.period), []).append(o)
        return out

    @cached_property
    def file_rows(self) -> tuple[Grouped | None, Grouped | None]:
        """The validation's findings and the accepted returns' notes (file, indicator_id,
        note), by file (None for a table without rows, or without notes)."""
        f, rows = self.v.findings, self.v.accepted_rows
        return (
            Grouped(f, ["file"]) if len(f) else None,
            Grouped(rows[["file", "indicator_id", "note"]], ["file"]) if "note" in rows else None,
        )

    @cached_property
    def funnel_rows(self) -> Grouped:
        """Every LA's published figure (status '', a value and a positive denominator) of each
        indicator with a count model, by period: what a funnel plot shows. A withheld figure is
        never among them."""
        las = self.bench["las"]
        counted = [i.id for i in self.inputs.catalogue if i.count_model != "none"]
        den = pd.to_numeric(las["denominator"], errors="coerce")
        keep = las["status"].eq(OK) & las["value"].notna() & den.gt(0)
        keep &= las["indicator_id"].isin(counted)
        return Grouped(las.loc[keep, [*FUNNEL_COLUMNS, "period"]], ["period"])

    def funnel(self, period: str, la_codes) -> pd.DataFrame:
        """The figures a regional report's funnel plots show for `period`: every LA's from the
        returns; with published comparators, the region's own (`la_codes`: no other LA has a
        figure for the quarter)."""
        rows = self.funnel_rows.rows([period])[FUNNEL_COLUMNS]
        if self.comparators.mode == PUBLISHED:
            rows = rows[rows["la_code"].isin(list(la_codes))]
        return rows

    def spread(self, period: str) -> dict[str, float]:
        """Each indicator's national interquartile range in `period`
        (``narrative.national_spread``), and in published mode how much all LAs' published
        figures differ: worked out once per period, for every regional report of it."""
        return self.per_period(
            "spread",
            period,
            lambda: narrative.national_spread(self.bench["las"], period) | self.comparators.spread,
        )

    def rows_in(self, la_rows: pd.DataFrame, period: str) -> dict[str, dict]:
        """``scorecard.rows_in``: an LA's rows (of the benchmarked figures) in `period`, by
        indicator, from every LA's rows in `period` made into dicts once."""
        records = self.per_period("records", period, lambda: self._records(period))
        labels = la_rows.index.to_numpy()[la_rows["period"].to_numpy() == period]
        return {(r := records[label])["indicator_id"]: r for label in labels.tolist()}

    def _records(self, period: str) -> dict:
        """Row label -> the row as a dict, for every LA's row in `period`."""
        las = self.bench["las"]
        rows = las[las["period"].eq(period)]
        return dict(zip(rows.index, records(rows), strict=True))

    def per_period(self, what: str, period: str, make) -> dict:
        """What `make()` gives, made for the first job of `period` that asks for `what` and kept
        for the others."""
        if (what, period) not in self.made:
            self.made[(what, period)] = make()
        return self.made[(what, period)]

    @cached_property
    def text(self) -> dict[str, RowsText]:
        """The CSV text of slices' tables, formatted once: LA figures, neighbours' figures,
        areas' figures and the funnel plots' figures."""
        las = RowsText(self.bench["las"])
        return {
            "las": las,
            "neighbours": las.columns(NEIGHBOUR_COLUMNS),
            "areas": RowsText(self.published_areas),
            "funnel": RowsText(self.funnel_rows.frame[FUNNEL_COLUMNS], FLOATS),
        }

    @cached_property
    def figures_text(self) -> FiguresText:
        """Every report's figures CSV, formatted once."""
        reference = self.inputs.reference
        return FiguresText(
            self.bench["las"],
            self.published_areas,
            reference.la_names,
            self.region_names,
            self.inputs.catalogue,
            NEIGHBOUR_COLUMNS,
        )
