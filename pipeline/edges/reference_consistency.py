"""Reference data that contradicts itself, refused before anything is built from it.

The reference contract checks each file's cells; these checks are across rows and files, and
hold whatever contract a run is given: one row per LA, one name per region code and one code per
region name (else a region's reports are built twice, or under a name that is lost), and
statistical neighbours that are other, known LAs, each once (else an LA is compared with itself,
or one neighbour counts twice in the neighbours' mean).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipeline.core.errors import ConfigError


def _rows(df: pd.DataFrame) -> pd.Series:
    """The line each row is on (the header is line 1) when the file gave it."""
    if "row" in df:
        return df["row"].astype(str)
    return pd.Series(range(2, len(df) + 2), index=df.index).astype(str)


def check(ref: Mapping[str, pd.DataFrame], where: str) -> None:
    """Refuse the first contradiction in the reference tables, naming the file and rows."""
    las = ref["local_authorities"]
    la_file = str(las.attrs.get("file", f"{where}/local_authorities.csv"))
    if {"la_code", "region_code", "region_name"} <= set(las.columns):
        _one_row_per_la(las, la_file)
        _one_name_per_region(las, la_file)
    sn = ref["statistical_neighbours"]
    if {"la_code", "neighbour_la_code"} <= set(sn.columns) and "la_code" in las:
        _neighbours(sn, set(las["la_code"]), la_file, where)


def _one_row_per_la(las: pd.DataFrame, file: str) -> None:
    rows = _rows(las)
    twice = las["la_code"].duplicated(keep=False)
    if twice.any():
        code = las.loc[twice, "la_code"].iloc[0]
        same = las["la_code"].eq(code)
        regions = list(dict.fromkeys(las.loc[same, "region_code"]))
        also = f" (in regions {' and '.join(regions)})" if len(regions) > 1 else ""
        raise ConfigError(
            f"{file}, rows {' and '.join(rows[same])}: LA {code} is listed more than once{also}; "
            "expected one row per LA"
        )


def _one_name_per_region(las: pd.DataFrame, file: str) -> None:
    rows = _rows(las)
    for key, other, says in (
        (
            "region_code",
            "region_name",
            "region {key} is called {a!r} in row {ra} and {b!r} in "
            "row {rb}; expected one name for each region code",
        ),
        (
            "region_name",
            "region_code",
            "region {key!r} has the code {a} in row {ra} and {b} in "
            "row {rb}; expected one code for each region",
        ),
    ):
        firsts = las.drop_duplicates([key, other])
        clash = firsts[key].duplicated(keep=False)
        if clash.any():
            value = firsts.loc[clash, key].iloc[0]
            both = firsts[firsts[key].eq(value)].iloc[:2]
            (ia, a), (ib, b) = list(both[other].items())
            raise ConfigError(
                f"{file}, rows {rows[ia]} and {rows[ib]}: "
                + says.format(key=value, a=a, b=b, ra=rows[ia], rb=rows[ib])
            )


def _neighbours(sn: pd.DataFrame, known: set[str], la_file: str, where: str) -> None:
    file = str(sn.attrs.get("file", f"{where}/statistical_neighbours.csv"))
    rows = _rows(sn)
    by = str(sn.attrs.get("la_column", "la_code"))
    shown = sn.attrs.get("neighbour_columns") or {}
    ranks = sn["neighbour_rank"] if "neighbour_rank" in sn else pd.Series("", index=sn.index)

    def column(i) -> str:
        return str(shown.get(str(ranks[i]), "neighbour_la_code"))

    for col in ("la_code", "neighbour_la_code"):
        unknown = ~sn[col].isin(known)
        if unknown.any():
            i = unknown.idxmax()
            raise ConfigError(
                f"{file}, row {rows[i]}, column {by if col == 'la_code' else column(i)}: LA code "
                f"{sn.loc[i, col]!r} is not in {la_file}; expected one of its LAs"
            )
    own = sn["la_code"].eq(sn["neighbour_la_code"])
    if own.any():
        i = own.idxmax()
        raise ConfigError(
            f"{file}, row {rows[i]}, column {column(i)}: LA {sn.loc[i, 'la_code']} is listed as "
            "its own statistical neighbour; expected other LAs only"
        )
    twice = sn.duplicated(["la_code", "neighbour_la_code"])
    if twice.any():
        i = twice.idxmax()
        la, nb = sn.loc[i, "la_code"], sn.loc[i, "neighbour_la_code"]
        first = sn[sn["la_code"].eq(la) & sn["neighbour_la_code"].eq(nb)].index[0]
        raise ConfigError(
            f"{file}, row {rows[i]}, column {column(i)}: {nb} is already LA {la}'s neighbour "
            f"(row {rows[first]}, rank {ranks[first]}); expected each neighbour once, or it "
            "counts twice in the neighbours' mean"
        )
