"""The annual datapack from DfE's published statistics: a source folder, read once.

The mapping (``data_contracts/datapack.yaml``) names the files; this module reads them into what
every datapack report shares: the indicator catalogue (polarity from LAIT's dictionary), the
reference data from the published lists, and the figures with DfE's own area figures beside
them (see ``pipeline.edges.ees``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.edges import contracts as ct
from pipeline.edges import ees
from pipeline.edges import reference as ref_io

MAPPING = "datapack.yaml"


@dataclass
class Published:
    """A source folder read through its mapping."""

    spec: ees.Spec
    catalogue: Catalogue
    reference: ref_io.Reference
    extract: ees.Extract


def load_published(source: Path, mapping: Path, reference_contract: Path) -> Published:
    """Read `source` as `mapping` says; the reference is checked against `reference_contract`
    and its window is the years the figures span."""
    source = Path(source)
    spec = ees.load_spec(mapping)
    lait = spec.reference.get("lait")
    catalogue = spec.catalogue(ees.lait_dictionary(source / str(lait)) if lait else {})
    reference = ref_io.from_public(
        source, spec.reference, ct.load_contract(reference_contract), spec.name, str(mapping)
    )
    extract = ees.extract(spec, source, catalogue, reference.aliases)
    years = sorted({parse_slug(p) for p in extract.figures["period"]})
    if years:
        reference = dataclasses.replace(reference, window=(years[0], years[-1]))
    return Published(spec, catalogue, reference, extract)
