"""Which LA, period and version each return is, and which version the reports use.

A return's file is named ``<la_code>_<period>[_v<N>][_provisional].<csv|xlsx|xlsm>``: no ``_v<N>``
is version 1, a resubmission is ``_v2``, ``_v3``, ... and ``_provisional`` marks figures the LA
will confirm (see :func:`pipeline.core.checks.return_version`). The dataset keeps every version;
each is validated, and the reports use the latest accepted version of each LA's return for a
period. Two files with the same LA, period and version are both refused, each naming the other.

`tartan validate RETURNS` checks RETURNS with the dataset's other returns as context: a checked
file replaces the context's file of the same LA, period and version (the LA's corrected copy),
and nothing of a higher version; the context's earlier versions stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from pipeline.core import checks
from pipeline.core.periods import parse_slug

#: (la_code, how it was decided, period slug, how it was decided), as checks.return_identity
Identity = tuple[str | None, str, str | None, str]


def identities(files: pd.DataFrame, typed: pd.DataFrame, known: set[str]) -> dict[str, Identity]:
    """Which LA and period each file is for: from its name, else from its rows."""
    out = {}
    need_rows = []
    for name in files["file"]:
        ident = checks.return_identity(name, [], [], known)
        out[name] = ident
        if ident[0] is None or ident[2] is None:
            need_rows.append(name)
    if need_rows and len(typed):
        sub = typed[typed["file"].isin(need_rows)]
        for name, g in sub.groupby("file", sort=False):
            out[name] = checks.return_identity(
                name, g["la_code"].tolist(), g["period_slug"].tolist(), known
            )
    return out


def with_identity(typed: pd.DataFrame, ident: dict[str, Identity]) -> pd.DataFrame:
    """The rows with their return's LA and period, as codes and in words."""
    file_of = typed["file"].to_numpy(dtype=object)

    def by_file(values: dict) -> pd.Series:
        return pd.Series([values[f] for f in file_of], index=typed.index, dtype=object)

    typed["return_la_code"] = by_file({f: i[0] for f, i in ident.items()})
    typed["return_period"] = by_file({f: i[2] for f, i in ident.items()})
    typed["return_la_text"] = by_file(
        {f: f"{i[0]}, the LA this return is for (from its {i[1]})" for f, i in ident.items()}
    )
    typed["return_period_text"] = by_file(
        {
            f: f"{parse_slug(i[2]).label}, the period this return is for (from its {i[3]})"
            if i[2]
            else ""
            for f, i in ident.items()
        }
    )
    return typed


def version_key(name: str, ident: dict[str, Identity]) -> tuple[str | None, str | None, int | None]:
    """(LA, period, version) of one file; version None when its name writes it oddly."""
    la, _, period, _ = ident[name]
    return la, period, checks.return_version(name)[0]


def one_return_each(
    per_file: pd.DataFrame,
    typed: pd.DataFrame,
    ident: dict[str, Identity],
    shown_checked: set[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mark what a file's name and its neighbours say: `version_problem`, a version written
    oddly (``_v0``, ``_v1.5``, ``_vx``); `other_return`, the other checked files with the same LA,
    period and version (neither is used until one is withdrawn or renamed). A checked return
    replaces the context's file of the same LA, period and version: that file's row and rows
    are dropped. Other versions in the context stay."""
    by_key: dict[tuple, list[str]] = {}
    for name in shown_checked:
        la, period, version = version_key(name, ident)
        if la and period and version is not None:
            by_key.setdefault((la, period, version), []).append(name)
    per_file["version_problem"] = [checks.return_version(f)[2] for f in per_file["file"]]
    per_file["other_return"] = [
        ", ".join(sorted(o for o in by_key.get(version_key(f, ident), []) if o != f)) or None
        for f in per_file["file"]
    ]
    replaced = {f for f in ident if f not in shown_checked and version_key(f, ident) in by_key}
    if replaced:
        per_file = per_file[~per_file["file"].isin(replaced)].reset_index(drop=True)
        typed = typed[~typed["file"].isin(replaced)].reset_index(drop=True)
    return per_file, typed


def latest_accepted(accepted: Iterable[str], ident: dict[str, Identity]) -> set[str]:
    """The version the reports use of each LA's return for a period: the highest-numbered of
    the accepted files `accepted`."""
    best: dict[tuple[str, str], tuple[int, str]] = {}
    for name in sorted(accepted):
        la, period, version = version_key(name, ident)
        if not la or not period or version is None:
            continue
        if (la, period) not in best or version > best[(la, period)][0]:
            best[(la, period)] = (version, name)
    return {name for _, name in best.values()}
