"""The light facade a report notebook imports.

A notebook kernel receives the path of a slice the driver prepared (context.json and CSV files)
and lays out the story with a few calls here. Nothing expensive or fallible happens in the
kernel: validation, benchmarking, banding and the evidence statements were done once, before any
notebook ran.
"""

from pipeline.report.common import HTML
from pipeline.report.pack import SelfAssessmentPack
from pipeline.report.regional import RegionalBenchmark

#: each kind of report (its output file's stem) and its facade
REPORTS = {"regional-benchmark": RegionalBenchmark, "self-assessment": SelfAssessmentPack}

__all__ = ["HTML", "REPORTS", "RegionalBenchmark", "SelfAssessmentPack"]
