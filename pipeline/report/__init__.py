"""The light facade a report notebook imports.

A notebook kernel receives the path of a slice the driver prepared (context.json and CSV files)
and lays out the story with a few calls here. Nothing expensive or fallible happens in the
kernel: validation, benchmarking, banding and the evidence statements were done once, before any
notebook ran, and the sections themselves (charts included) were laid out by the job's worker
(see `prepared`). Importing this package imports neither pandas nor any chart library.
"""

from pipeline.report.prepared import HTML, Facade


class RegionalBenchmark(Facade):
    """The regional benchmarking report (pipeline.report.regional)."""

    IMPLEMENTATION = ("pipeline.report.regional", "RegionalBenchmark")


class SelfAssessmentPack(Facade):
    """The self-assessment evidence pack (pipeline.report.pack)."""

    IMPLEMENTATION = ("pipeline.report.pack", "SelfAssessmentPack")


class PeerChallengePack(Facade):
    """The peer-challenge group pack (pipeline.report.group)."""

    IMPLEMENTATION = ("pipeline.report.group", "PeerChallengePack")


class AnnualDatapack(Facade):
    """The annual datapack from DfE's published statistics (pipeline.report.datapack)."""

    IMPLEMENTATION = ("pipeline.report.datapack", "AnnualDatapack")


#: each kind of report (its output file's stem) and its facade
REPORTS = {
    "regional-benchmark": RegionalBenchmark,
    "self-assessment": SelfAssessmentPack,
    "datapack": AnnualDatapack,
    "peer-challenge": PeerChallengePack,
}

__all__ = ["HTML", "REPORTS", "AnnualDatapack", "PeerChallengePack", "RegionalBenchmark"]
__all__ += ["SelfAssessmentPack"]
