"""Reference data: local authorities and regions, statistical neighbours, populations.

A dataset folder holds ``reference/`` (these files), ``returns/`` (LA returns) and an optional
``dataset.yaml`` (its name, and whether it is demonstration data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core.errors import ConfigError, DataError
from pipeline.edges.contracts import load_yaml

FILES = {
    "local_authorities": ["la_code", "la_name", "region_code", "region_name"],
    "statistical_neighbours": ["la_code", "neighbour_rank", "neighbour_la_code", "closeness"],
    "population": ["la_code", "year", "population_0_17"],
}


@dataclass
class Reference:
    name: str
    demonstration: bool
    banner: str
    local_authorities: pd.DataFrame
    statistical_neighbours: pd.DataFrame
    population: pd.DataFrame

    @property
    def regions(self) -> pd.DataFrame:
        return (
            self.local_authorities[["region_code", "region_name"]]
            .drop_duplicates()
            .sort_values("region_code")
            .reset_index(drop=True)
        )

    def la_name(self, code: str) -> str:
        hit = self.local_authorities.loc[self.local_authorities["la_code"] == code, "la_name"]
        return str(hit.iloc[0]) if len(hit) else code


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path}: reference file not found (expected columns {', '.join(columns)})")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in columns:
        df[c] = df[c].str.strip()
    return df[columns]


def load(dataset: Path) -> Reference:
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise ConfigError(
            f"{dataset}: no such data folder (expected reference/ and returns/ in it)"
        )
    meta = load_yaml(dataset / "dataset.yaml") if (dataset / "dataset.yaml").exists() else {}
    ref = {name: _read(dataset / "reference" / f"{name}.csv", cols) for name, cols in FILES.items()}
    ref["statistical_neighbours"]["neighbour_rank"] = ref["statistical_neighbours"][
        "neighbour_rank"
    ].astype(int)
    pop = ref["population"]
    pop["year"] = pop["year"].astype(int)
    pop["population_0_17"] = pop["population_0_17"].astype(int)
    demo = bool(meta.get("demonstration", False))
    return Reference(
        name=str(meta.get("name", dataset.name)),
        demonstration=demo,
        banner=str(meta.get("banner", "")) if demo else "",
        **ref,
    )
