"""The files a regional report is also published as (its workbook and its slide deck): beside
the page, linked from the index and the page, recorded in the manifest, and kept, checked and
cleaned up like the report's other outputs."""

from __future__ import annotations

import hashlib
import json
import re

from tests.conftest import TINY_PERIODS, TINY_REGION
from tests.test_scale import _copy, _report

PERIOD = TINY_PERIODS[-1]
STEM = f"{PERIOD}/{TINY_REGION}/regional-benchmark"


def test_the_index_and_the_report_link_the_workbook_and_the_slides(tiny_site):
    index = (tiny_site / "index.html").read_text(encoding="utf-8")
    for suffix, words in ((".xlsx", "workbook (Excel, .xlsx)"), (".pptx", "slides (PowerPoint")):
        assert (tiny_site / f"{STEM}{suffix}").is_file()
        assert re.search(rf'<a href="{re.escape(STEM + suffix)}">[^<]*{re.escape(words)}', index)
    page = (tiny_site / f"{STEM}.html").read_text(encoding="utf-8")
    assert 'href="regional-benchmark.xlsx"' in page and 'href="regional-benchmark.pptx"' in page


def test_the_manifest_records_them_with_their_sha256(tiny_site):
    manifest = json.loads((tiny_site / "manifest.json").read_text(encoding="utf-8"))
    job = next(j for j in manifest["jobs"] if j["id"] == STEM)
    for suffix in (".xlsx", ".pptx"):
        rel = f"{STEM}{suffix}"
        assert rel in job["outputs"]
        digest = hashlib.sha256((tiny_site / rel).read_bytes()).hexdigest()
        assert job["output_sha256"][rel] == digest


def test_a_damaged_or_deleted_workbook_is_made_again_alone(tiny_site, tiny, tmp_path, capfd):
    out = _copy(tiny_site, tmp_path)
    (out / f"{STEM}.xlsx").write_bytes(b"not a workbook")
    (out / f"{STEM}.pptx").unlink()
    result = _report(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert "1 run" in result.stdout, "only the regional report is run again"
    for suffix in (".xlsx", ".pptx"):
        assert (out / f"{STEM}{suffix}").read_bytes() == (
            tiny_site / f"{STEM}{suffix}"
        ).read_bytes()
