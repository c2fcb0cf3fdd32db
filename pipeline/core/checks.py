"""The facts a return's checks read, derived from the return as sent. Pure pandas, no I/O.

The contract (``data_contracts/la_return.yaml``) says what must hold; Great Expectations runs the
checks (``pipeline.edges.contracts``). This module derives the columns those checks read: numbers
parsed, periods placed in the reporting window, the value recomputed from numerator and
denominator, each indicator's coverage, and the change since the LA's previous accepted return.
And the findings, bounded: a file's findings of one check on one column are listed up to
``FINDINGS_KEPT``, then one finding says how many more rows are like them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue, Indicator
from pipeline.core.errors import DataError
from pipeline.core.periods import Period, from_ees, parse_slug

NUMBER_COLUMNS = ("numerator", "denominator", "value")
#: findings listed per file, check and column; one more finding says how many rows are not
FINDINGS_KEPT = 50
_MORE = re.compile(r"^and [\d,]+ more (?:rows )?like this")
_SLUG_IN_NAME = re.compile(r"(\d{4}-\d{2}-Q[1-4])", re.IGNORECASE)


def _period(tp: object, ti: object) -> tuple[Period | None, str | None]:
    """(period, None), or (None, why not) when both cells are there but do not make a quarter."""
    if tp is None or ti is None:
        return None, None
    try:
        return from_ees(tp, ti), None
    except DataError as exc:
        return None, str(exc)


def return_identity(
    name: str, la_codes: Iterable[str | None], periods: Iterable[str | None], known: set[str]
) -> tuple[str | None, str, str | None, str]:
    """Which LA and period one return is for, and how that was decided.

    The file's name says so when it follows the convention ``<la_code>_<period>.csv`` (the
    period may instead be its folder's name); otherwise the LA code and period most of its rows
    give. Returns (la_code, source, period slug, source), a source being "file name" or "rows".
    """
    path = name.replace("\\", "/")
    token = re.split(r"[_\s.]+", path.rsplit("/", 1)[-1])[0].upper()
    la, la_source = (token, "file name") if token in known else (None, "rows")
    period, period_source = None, "rows"
    for slug in reversed(_SLUG_IN_NAME.findall(path)):
        try:
            period, period_source = parse_slug(slug.upper()).slug, "file name"
            break
        except DataError:
            continue
    if la is None:
        codes = pd.Series([c for c in la_codes if c in known], dtype=object)
        la = str(codes.mode().sort_values().iloc[0]) if len(codes) else None
    if period is None:
        # A row without a period is None or, in a string column, NaN (which is truthy).
        ps = pd.Series([p for p in periods if isinstance(p, str) and p], dtype=object)
        period = str(ps.mode().sort_values().iloc[0]) if len(ps) else None
    return la, la_source, period, period_source


#: a return's name as the convention has it: <la_code>_<period>, then its tokens, then .csv etc.
_CONVENTION = re.compile(r"^[^_\s.]+_\d{4}-\d{2}-Q[1-4](?P<rest>.*?)\.[A-Za-z]+$", re.IGNORECASE)
_VERSION = re.compile(r"v([1-9]\d*)", re.IGNORECASE)
#: a token meant as a version but not written v<N>: v0, v01, v1.5, vx, v, vii, v-2
_ODD_VERSION = re.compile(r"v(?:[^a-z]*|[a-z]{0,2}|.*\d.*)", re.IGNORECASE)
PROVISIONAL = "provisional"


def return_version(name: str) -> tuple[int | None, bool, str | None]:
    """Which version of its LA's return for the period a file is, from its name
    ``<la_code>_<period>[_v<N>][_provisional].<ext>``: (version, provisional, problem).

    No ``_v<N>`` is version 1. A token meant as a version but not written as v and a whole
    number from 1 (``_v0``, ``_v1.5``, ``_vx``) is a problem: (None, provisional, the token). A
    name not following the convention is version 1, never provisional by its name."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    m = _CONVENTION.match(base)
    if m is None:
        return 1, False, None
    version, named = 1, False
    provisional, problem = False, None
    for token in re.split(r"[_\s]+", m.group("rest")):
        if not token:
            continue
        if token.lower() == PROVISIONAL:
            provisional = True
        elif (v := _VERSION.fullmatch(token)) is not None and not named:
            version, named = int(v.group(1)), True
        elif _ODD_VERSION.fullmatch(token) or _VERSION.fullmatch(token):
            problem = problem or token
    return (None if problem else version), provisional, problem


def typed_rows(
    rows: pd.DataFrame,
    catalogue: Catalogue,
    known_las: set[str],
    window: tuple[Period, Period] | None,
    columns: Iterable[str],
) -> pd.DataFrame:
    """Rows as sent (blank cells as None) plus the derived columns the checks read.

    ``rows`` has the contract's columns as strings plus ``file``, ``row``, ``return_la_code`` and
    ``return_period``. Added: ``numerator_n``, ``denominator_n``, ``value_n`` (numbers or NaN),
    ``la_known``, ``period_slug``, ``period_label``, ``period_ordinal`` (NaN when malformed),
    ``has_status``, ``value_gap`` (how far the value is beyond rounding of numerator /
    denominator x scale; NaN when it cannot be worked out), ``value_expected``, ``range_excess``
    (how far the value is outside the indicator's valid range; > 0 outside) and
    ``valid_range_text``.
    """
    df = rows.copy()
    for col in columns:
        if col not in df:
            df[col] = None
        df[col] = cells(df[col])
    for col in NUMBER_COLUMNS:
        df[f"{col}_n"] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["la_known"] = df["la_code"].isin(known_las)
    _add_periods(df)
    df["has_status"] = df["status"].notna()
    _add_value_checks(df, catalogue)
    if window is not None:
        df["window_text"] = f"a period from {window[0].label} to {window[1].label}"
    return df


def _add_periods(df: pd.DataFrame) -> None:
    """Add period_error, period_slug, period_ordinal and period_label to typed rows, in place."""
    # Periods are worked out once per distinct (time_period, time_identifier) pair.
    key = pd.MultiIndex.from_arrays([df["time_period"], df["time_identifier"]])
    codes, uniques = key.factorize()
    parsed = [_period(tp, ti) for tp, ti in uniques]
    found = [p for p, _ in parsed]
    # Only a time_period that does not fit a known quarter is this check's to report; an
    # unknown time_identifier or malformed time_period has its own check.
    df["period_error"] = _take(
        [
            why if why and str(ti).startswith("Financial year Q") and str(tp).isdigit() else None
            for (_, why), (tp, ti) in zip(parsed, uniques, strict=True)
        ],
        codes,
    )
    df["period_slug"] = _take([p.slug if p else None for p in found], codes)
    df["period_ordinal"] = _take([float(p.ordinal) if p else math.nan for p in found], codes)
    df["period_label"] = _take(
        [
            p.label if p else " ".join(str(x) for x in (tp, ti) if isinstance(x, str))
            for p, (tp, ti) in zip(found, uniques, strict=True)
        ],
        codes,
    )


def _add_value_checks(df: pd.DataFrame, catalogue: Catalogue) -> None:
    """Add value_gap, range_excess, valid_range_text and value_expected to typed rows, in place:
    the value against numerator / denominator x scale, and against the valid range."""
    by_id = {i.id: i for i in catalogue}
    scale = df["indicator_id"].map({k: i.scale for k, i in by_id.items()}).astype(float)
    decimals = df["indicator_id"].map({k: i.decimals for k, i in by_id.items()}).astype(float)
    num, den, val = df["numerator_n"], df["denominator_n"], df["value_n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = (num / den.where(den != 0)) * scale
    tolerance = 0.5 * np.power(10.0, -decimals) + 1e-9
    df["value_gap"] = ((val - exact).abs() - tolerance).where(exact.notna() & val.notna())
    _add_range(df, by_id)
    df["value_expected"] = ""
    off = df.index[df["value_gap"] > 0]  # the words are only needed where the check fails
    df.loc[off, "value_expected"] = [
        f"{e:.{int(d)}f} (numerator / denominator x {int(s):,}, to {_places(int(d))})"
        for e, d, s in zip(exact[off], decimals[off], scale[off], strict=True)
    ]


def _add_range(df: pd.DataFrame, by_id: dict[str, Indicator]) -> None:
    """Add range_excess and valid_range_text (the range, where the value is outside it)."""
    val = df["value_n"]
    lo = df["indicator_id"].map({k: i.valid_min for k, i in by_id.items()}).astype(float)
    hi = (
        df["indicator_id"]
        .map({k: math.inf if i.valid_max is None else i.valid_max for k, i in by_id.items()})
        .astype(float)
    )
    df["range_excess"] = np.maximum(lo - val, val - hi).where(val.notna() & lo.notna())
    df["valid_range_text"] = ""
    out_of_range = df.index[df["range_excess"] > 0]
    df.loc[out_of_range, "valid_range_text"] = [
        f"{a:g} to {b:g}" if b != math.inf else f"{a:g} or more"
        for a, b in zip(lo[out_of_range], hi[out_of_range], strict=True)
    ]


def cells(column: pd.Series) -> pd.Series:
    """Cells as sent, stripped, with blank or missing as None (what the checks call missing)."""
    return pd.Series(
        [_cell(x) for x in column.to_numpy(dtype=object)], index=column.index, dtype=object
    )


def _cell(x: object) -> str | None:
    """A cell as sent, stripped; blank or missing is None."""
    if isinstance(x, str):
        x = x.strip()
        return x or None
    return None if x is None or x != x else str(x)


def lenient_numbers(column: pd.Series) -> pd.Series:
    """Cells read as a person reads them: ' 3.0 ', '3%' and '1,234' are numbers (3.0, 3.0,
    1234.0); anything else is NaN. For judging what a quoted cell gives away, not for checking
    it (the contract's number_format rule is strict)."""
    text = column.astype(object).where(column.map(lambda x: isinstance(x, str | int | float)))
    text = text.astype("string").str.strip().str.removesuffix("%")
    text = text.str.replace(r"[,\s]", "", regex=True)
    number = pd.to_numeric(text, errors="coerce").astype(float)
    return number.where(np.isfinite(number))


def _take(values: list, codes: np.ndarray) -> np.ndarray:
    """values[code] for each code; a code of -1 (a missing key) gives None."""
    arr = np.empty(len(values) + 1, dtype=object)
    arr[: len(values)] = values
    arr[-1] = None
    return arr[codes]


def coverage(returns: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """One row per (return file, catalogue indicator): how many rows the return gives it.

    ``returns`` holds rows with ``file`` and ``indicator_id``; files listed in ``files`` with no
    rows at all are still covered (each indicator counts zero).
    """
    files = sorted(returns["file"].unique())
    grid = pd.MultiIndex.from_product([files, catalogue.ids], names=["file", "indicator_id"])
    counts = returns.groupby(["file", "indicator_id"]).size()
    out = counts.reindex(grid, fill_value=0).rename("rows_found").reset_index()
    labels = {i.id: i.label for i in catalogue}
    out["indicator"] = out["indicator_id"].map(labels)
    out["row"] = 0
    return out


def changes(
    current: pd.DataFrame,
    history: pd.DataFrame,
    catalogue: Catalogue,
    relative: float,
    absolute: dict[str, float],
    lookback: int = 4,
) -> pd.DataFrame:
    """Each current value against the same LA's value in its previous accepted return.

    ``current`` and ``history`` are typed rows (``la_code``, ``period_slug``, ``indicator_id``,
    ``value_n``, plus ``file`` and ``row`` on ``current``). The previous value is the one from the
    latest earlier period, at most ``lookback`` periods back, that history holds for that LA and
    indicator. A change is implausible when it is larger than ``relative`` x the previous value
    and larger than ``absolute[unit]``: ``change_excess`` > 0 then.
    """
    cols = [
        "file",
        "row",
        "la_code",
        "indicator_id",
        "value",
        "value_text",
        "change_excess",
        "change_text",
    ]
    cur = current[current["value_n"].notna() & current["period_slug"].notna()].copy()
    hist = history[history["value_n"].notna() & history["period_slug"].notna()]
    if cur.empty or hist.empty:
        return pd.DataFrame(columns=cols)
    m = _with_previous(cur, hist, lookback)
    if m.empty:
        return pd.DataFrame(columns=cols)
    _judge_changes(m, catalogue, relative, absolute)
    return m[cols].reset_index(drop=True)


def _with_previous(cur: pd.DataFrame, hist: pd.DataFrame, lookback: int) -> pd.DataFrame:
    """The current rows that have a previous value, with prev_period and prev_value: the latest
    strictly earlier value history holds for the LA and indicator, at most `lookback` back."""
    ordinal = {p: parse_slug(p).ordinal for p in set(cur["period_slug"]) | set(hist["period_slug"])}
    cur["_ord"] = cur["period_slug"].map(ordinal).astype(int)
    h = hist[["la_code", "indicator_id", "period_slug", "value_n"]].copy()
    h["_ord"] = h["period_slug"].map(ordinal).astype(int)
    # Each current value meets the latest strictly earlier value history has for its LA and
    # indicator (history holds accepted returns only, so a rejected quarter is skipped).
    earlier = pd.merge_asof(
        cur.sort_values("_ord"),
        h[["la_code", "indicator_id", "_ord", "period_slug", "value_n"]]
        .rename(columns={"period_slug": "prev_period", "value_n": "prev_value", "_ord": "_pord"})
        .sort_values("_pord"),
        left_on="_ord",
        right_on="_pord",
        by=["la_code", "indicator_id"],
        allow_exact_matches=False,
    )
    return earlier[earlier["_pord"].notna() & (earlier["_pord"] >= earlier["_ord"] - lookback)]


def _judge_changes(
    m: pd.DataFrame, catalogue: Catalogue, relative: float, absolute: dict[str, float]
) -> None:
    """Add change_excess (> 0 when implausible), value_text and change_text, in place."""
    units = {i.id: i.unit for i in catalogue}
    fmt = {i.id: i for i in catalogue}
    floor = m["indicator_id"].map(lambda i: absolute.get(units.get(i, ""), 0.0)).astype(float)
    allowed = np.maximum(relative * m["prev_value"].abs(), floor)
    m["change_excess"] = (m["value_n"] - m["prev_value"]).abs() - allowed
    m["value_text"] = [
        _fmt(fmt.get(i), v) if x > 0 else ""
        for i, v, x in zip(m["indicator_id"], m["value_n"], m["change_excess"], strict=True)
    ]
    m["change_text"] = [
        f"{_fmt(fmt.get(i), pv)} in {parse_slug(pp).label}; a change of more than "
        f"{_fmt(fmt.get(i), a, change=True)} is unusual, so please check it"
        if x > 0
        else ""
        for i, pv, pp, a, x in zip(
            m["indicator_id"],
            m["prev_value"],
            m["prev_period"],
            allowed,
            m["change_excess"],
            strict=True,
        )
    ]


def _fmt(ind, x: float, change: bool = False) -> str:
    if ind is None:
        return f"{x:g}"
    if change and ind.unit == "percentage":
        return f"{x:,.{ind.decimals}f} percentage points"
    return ind.format(x)


def _places(d: int) -> str:
    return "whole numbers" if d == 0 else f"{d} decimal place{'' if d == 1 else 's'}"


def bounded(found: pd.DataFrame, kept: int = FINDINGS_KEPT) -> pd.DataFrame:
    """Findings (file, row, column, value, check_id, severity, message; in order) with at most
    `kept` of each file, check and column: the rest are one finding, at the first row left out,
    saying how many rows are like it and up to which."""
    key = ["file", "check_id", "column"]
    n = found.groupby(key, sort=False).cumcount()
    over = found[n >= kept]
    if over.empty:
        return found
    more = (
        over.groupby(key, sort=False)
        .agg(
            row=("row", "min"),
            last=("row", "max"),
            n=("row", "size"),
            severity=("severity", "first"),
        )
        .reset_index()
    )
    more["value"] = ""
    more["message"] = [
        f"and {k:,} more rows like this, up to row {last}, not listed"
        if last
        else f"and {k:,} more like this, not listed"
        for k, last in zip(more["n"], more["last"], strict=True)
    ]
    out = pd.concat([found[n < kept], more[list(found.columns)]], ignore_index=True)
    out["row"] = out["row"].astype(int)
    return out.sort_values(["file", "row", "check_id", "column"], kind="stable").reset_index(
        drop=True
    )


def is_more(message: object) -> bool:
    """Whether a finding is the one saying how many more rows are like those listed."""
    return bool(_MORE.match(str(message)))
