"""Reference data from DfE's and ONS's published lists, as the datapack mapping's `reference`
section names them: the LAs and the codes each is known by, former LAs, the statistical-neighbour
model and 0-17 populations, checked against the same reference contract as a dataset's own
reference files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from pipeline.core.errors import ConfigError
from pipeline.core.periods import Period
from pipeline.edges import contracts as ct
from pipeline.edges.reference import Reference, checked, read_reference_file


def _entry(spec: Mapping, key: str, where: str, fields: tuple[str, ...]) -> Mapping:
    raw = spec.get(key)
    if not isinstance(raw, Mapping) or "file" not in raw:
        raise ConfigError(
            f"{where}: reference.{key} must be a mapping with file, {', '.join(fields)}"
        )
    missing = [f for f in fields if f not in raw]
    if missing:
        raise ConfigError(f"{where}: reference.{key} is missing {', '.join(missing)}")
    return raw


def _columns(df: pd.DataFrame, wanted: list[str], path: Path) -> None:
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise ConfigError(
            f"{path}: no column(s) {', '.join(missing)}; its columns are "
            f"{', '.join(c for c in df.columns if c not in ('file', 'row'))}"
        )


def from_public(
    source: Path,
    spec: Mapping,
    contract: ct.Contract | None,
    name: str,
    where: str = "data_contracts/datapack.yaml",
) -> Reference:
    """The reference data from DfE's and ONS's published lists, as the datapack mapping's
    `reference` section names them (`public_tables`), checked against the same reference
    contract as a dataset's own reference files (`from_tables`)."""
    public = public_tables(source, spec, where)
    return from_tables(public, contract, Path(source), name=name, where=where)


class PublicTables(NamedTuple):
    """The published lists as read, before they are checked (`public_tables`)."""

    #: each table with ``file`` and ``row``: local_authorities, statistical_neighbours, population
    tables: dict[str, pd.DataFrame]
    #: every code an LA is known by in the files -> its code
    aliases: dict[str, str]
    #: the former LAs
    former: pd.DataFrame


def public_tables(source: Path, spec: Mapping, where: str) -> PublicTables:
    """The published lists as read: the LAs (with every code each is known by in the files),
    the statistical-neighbour model (one row per LA, neighbours in columns; turned to one row
    per pair, closeness labels trimmed) and 0-17 populations from an EES file."""
    source = Path(source)
    las, aliases, las_path = _public_las(source, spec, where)
    former = _former_las(source, spec, where, las, aliases)
    sn = _public_neighbours(source, spec, where, aliases, las_path)
    pop = _public_population(source, spec, where, las, aliases)
    tables = {"local_authorities": las, "statistical_neighbours": sn, "population": pop}
    return PublicTables(tables, aliases, former)


def from_tables(
    public: PublicTables, contract: ct.Contract | None, source: Path, *, name: str, where: str
) -> Reference:
    """`public_tables`' reference, checked (against `contract` when given); its window is the
    years the populations span (the figures' own years replace it once read)."""
    ref = checked(public.tables, contract, source)
    years = sorted(ref["population"]["year"].unique()) or [0]
    return Reference(
        name=name,
        demonstration=False,
        banner="",
        window=(Period(int(years[0])), Period(int(years[-1]))),
        window_source=where,
        aliases=public.aliases,
        former=public.former,
        **ref,
    )


def _public_las(
    source: Path, spec: Mapping, where: str
) -> tuple[pd.DataFrame, dict[str, str], Path]:
    """The published list of LAs (la_code, la_name, region_code, region_name, file, row),
    every code each is known by in the files -> its code, and the list's path."""
    las_spec = _entry(spec, "local_authorities", where, ("la_code", "la_name", "region_code"))
    path = source / str(las_spec["file"])
    raw = read_reference_file(
        path, [str(las_spec[k]) for k in ("la_code", "la_name", "region_code")]
    )
    other_codes = [str(c) for c in las_spec.get("codes_in_files", [])]
    picks = {k: str(las_spec[k]) for k in ("la_code", "la_name", "region_code", "region_name")}
    _columns(raw, [*picks.values(), *other_codes], path)
    las = pd.DataFrame(
        {k: raw[v] for k, v in picks.items()} | {"file": raw["file"], "row": raw["row"]}
    )
    las.attrs["file"] = str(path)

    aliases: dict[str, str] = {}
    for rec in raw.to_dict("records"):
        code = rec[picks["la_code"]]
        known = [code] + [rec[c] for c in other_codes]
        for alias in filter(None, known):
            if aliases.setdefault(alias, code) != code:
                raise ConfigError(
                    f"{path}, row {rec['row']}: code {alias!r} is also LA {aliases[alias]}'s; "
                    "expected each code to name one LA"
                )
    return las, aliases, path


def _former_las(
    source: Path, spec: Mapping, where: str, las: pd.DataFrame, aliases: dict[str, str]
) -> pd.DataFrame:
    """Former LAs (abolished, e.g. Cumbria to March 2023): not reported on, but their figures
    count in their region's and England's totals for the years they had them. Their codes, and
    codes retired when a continuing LA was recoded, are added to `aliases`."""
    former = pd.DataFrame(columns=["la_code", "la_name", "region_code", "region_name", "ended"])
    if not spec.get("former_las"):
        return former
    f_spec = _entry(spec, "former_las", where, ("code", "name", "status", "region"))
    f_path = source / str(f_spec["file"])
    fl = read_reference_file(f_path, [])
    cols = [str(f_spec[k]) for k in ("code", "name", "status", "region")]
    ended = str(f_spec.get("ended", ""))
    _columns(fl, cols + ([ended] if ended else []), f_path)
    gone = fl[fl[cols[2]].str.lower().eq("terminated") & ~fl[cols[0]].isin(list(aliases))]
    old_code = str(f_spec.get("old_code", ""))
    if old_code:  # a code retired when a continuing LA was recoded (Dorset, North Yorkshire)
        _columns(fl, [old_code], f_path)
        recoded = gone[old_code].isin(list(aliases))
        for code, old in zip(gone.loc[recoded, cols[0]], gone.loc[recoded, old_code], strict=True):
            aliases[code] = aliases[old]
        gone = gone[~recoded]
    region_names = dict(zip(las["region_code"], las["region_name"], strict=False))
    former = pd.DataFrame(
        {
            "la_code": gone[cols[0]],
            "la_name": gone[cols[1]],
            "region_code": gone[cols[3]],
            "region_name": gone[cols[3]].map(region_names),
            "ended": gone[ended] if ended else "",
        }
    ).reset_index(drop=True)
    unknown = former[former["region_name"].isna()]
    if len(unknown):
        raise ConfigError(
            f"{f_path}: former LA {unknown['la_code'].iloc[0]} is in region "
            f"{unknown['region_code'].iloc[0]!r}, which no current LA is in; expected one "
            f"of {', '.join(sorted(region_names))}"
        )
    for code in former["la_code"]:
        aliases.setdefault(code, code)
    return former


def _public_neighbours(
    source: Path, spec: Mapping, where: str, aliases: Mapping[str, str], las_path: Path
) -> pd.DataFrame:
    """The statistical-neighbour model (one row per LA, neighbours in columns) as one row per
    pair, under the LAs' current codes."""
    sn_spec = _entry(spec, "statistical_neighbours", where, ("la_code", "neighbour", "closeness"))
    sn_path = source / str(sn_spec["file"])
    wide = read_reference_file(sn_path, [])
    ranks = sn_spec.get("ranks", 10)
    if isinstance(ranks, bool) or not isinstance(ranks, int) or not 1 <= ranks <= 20:
        raise ConfigError(
            f"{where}: reference.statistical_neighbours.ranks {ranks!r} must be a whole number "
            "of neighbours from 1 to 20, e.g. 10"
        )
    by = str(sn_spec["la_code"])
    pattern_n, pattern_c = str(sn_spec["neighbour"]), str(sn_spec["closeness"])
    cols = [by] + [p.format(rank=r) for r in range(1, ranks + 1) for p in (pattern_n, pattern_c)]
    _columns(wide, cols, sn_path)
    pairs = []
    for r in range(1, ranks + 1):
        part = wide[[by, pattern_n.format(rank=r), pattern_c.format(rank=r), "row"]]
        part.columns = ["la_code", "neighbour_la_code", "closeness", "row"]
        pairs.append(part.assign(neighbour_rank=r))
    sn = pd.concat(pairs, ignore_index=True)
    for col in ("la_code", "neighbour_la_code"):
        mapped = sn[col].map(aliases)
        if mapped.isna().any():
            bad = sn[mapped.isna()].iloc[0]
            shown = by if col == "la_code" else "a neighbour column"
            raise ConfigError(
                f"{sn_path}, row {bad['row']}, {shown}: LA code {bad[col]!r} is not one of "
                f"{las_path.name}'s LAs; expected the model and the LA list to agree"
            )
        sn[col] = mapped
    # closeness labels were trimmed as read ("Close " in the 2025 model); ranks are checked as
    # text, like a dataset's own file
    sn = sn.sort_values(["la_code", "neighbour_rank"], kind="stable")
    sn = sn.assign(neighbour_rank=sn["neighbour_rank"].astype(str), file=str(sn_path))[
        ["la_code", "neighbour_rank", "neighbour_la_code", "closeness", "file", "row"]
    ]
    sn.attrs["file"] = str(sn_path)
    sn.attrs["la_column"] = by  # how reference_consistency names the columns
    sn.attrs["neighbour_columns"] = {str(r): pattern_n.format(rank=r) for r in range(1, ranks + 1)}
    return sn


def _public_population(
    source: Path, spec: Mapping, where: str, las: pd.DataFrame, aliases: Mapping[str, str]
) -> pd.DataFrame:
    """The LAs' 0-17 populations from an EES file, as text like a dataset's own file."""
    from pipeline.edges import ees

    pop_spec = _entry(spec, "population", where, ("column",))
    column = ees.Column(
        str(pop_spec["file"]),
        ees.filters_of(pop_spec.get("filters"), where),
        (str(pop_spec["column"]),),
    )
    files = ees.Files(source)
    rows = files.rows(column, f"{where}: reference.population")
    rows = rows[rows["geographic_level"].eq(ees.LA_LEVEL)]
    pop_path = source / column.file
    cells = ees.numbers(rows[column.column], rows["row"], str(pop_path), column.column)
    codes = rows[ees.code_column(rows, pop_path)].map(aliases)
    # current LAs' populations (a former LA's are not reference data: no report is about it)
    keep = codes.isin(list(las["la_code"])) & cells["status"].eq("")
    pop = pd.DataFrame(
        {
            "la_code": codes[keep],
            "year": ees.periods_of(rows[keep], pop_path).map(lambda p: str(p.start_year)),
            "population_0_17": cells.loc[keep, "number"].map(lambda v: f"{v:.0f}"),
            "file": str(pop_path),
            "row": rows.loc[keep, "row"],
        }
    )
    pop.attrs["file"] = str(pop_path)
    return pop
