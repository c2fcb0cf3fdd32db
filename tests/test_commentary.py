"""The region's own commentary on a quarter (commentary/<period>/<region>.md): rendered safely,
attributed, refused with exit 2 when it names what the dataset does not have, and a changed
file rebuilds only the report that shows it."""

from __future__ import annotations

import json

import pytest

from pipeline.core.errors import ConfigError
from pipeline.edges import commentary
from pipeline.html.regional import commentary as markup
from tests.conftest import TINY_PERIODS, TINY_REGION, cli
from tests.test_scale import JOBS, _copy, _differ, _report

PERIOD = TINY_PERIODS[-1]
HOSTILE = """\
---
author: Test network
date: 2026-11-20
---
# Our view

<script>alert("x")</script> and <b>bold</b>
=HYPERLINK("http://evil.example","click")
See [the guidance](https://www.gov.uk/x) and ![a chart](chart.png).
"""


def _write(data, text: str, period: str = PERIOD, code: str = TINY_REGION):
    path = data / "commentary" / period / f"{code}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_renders_as_text_never_as_markup(tmp_path):
    path = _write(tmp_path, HOSTILE)
    note = commentary.read(path, tmp_path)
    assert (note.author, note.date) == ("Test network", "2026-11-20")
    html = markup(note.to_json())
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)" in html
    assert "<a " not in html and "<img" not in html, "pages are offline: links are text"
    assert "the guidance (https://www.gov.uk/x)" in html
    # its own headings sit below the report's (h2 sections, h3 parts)
    assert "<h4>Our view</h4>" in html and "<h1>" not in html
    assert "Written by Test network, 2026-11-20" in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("No front matter at all.\n", "no front matter"),
        ("---\ndate: 2026-11-20\n---\nText\n", "no author"),
        ("---\nauthor: A\ndate: 20/11/2026\n---\nText\n", "is not a date"),
        ("---\nauthor: A\ndate: 2026-11-20\nsecret: x\n---\nText\n", "unknown front matter"),
        ("---\nauthor: [unclosed\ndate: 2026-11-20\n---\n", "not valid YAML"),
    ],
)
def test_bad_front_matter_is_refused_naming_the_file(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as err:
        commentary.read(path, tmp_path)
    assert str(path) in str(err.value)


def test_a_file_that_is_not_utf8_or_too_large_is_refused(tmp_path):
    path = _write(tmp_path, "")
    path.write_bytes(b"---\nauthor: A\ndate: 2026-11-20\n---\n\xff\xfe caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        commentary.read(path, tmp_path)
    path.write_bytes(b"x" * (commentary.MAX_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than"):
        commentary.read(path, tmp_path)


@pytest.mark.parametrize(
    ("period", "code", "message"),
    [
        ("2019-20-Q1", TINY_REGION, "not a period this dataset holds returns for"),
        (PERIOD, "E12000099", "'E12000099' is not a region or LA of this dataset"),
    ],
)
def test_an_unknown_period_or_region_stops_the_run_with_exit_2(
    tiny, tmp_path, capfd, period, code, message
):
    data = tiny.copy(tmp_path / "data")
    _write(data.data, HOSTILE, period, code)
    r = cli(capfd, "report", *data.args, "--out", tmp_path / "out", "--no-progress")
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and "commentary" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.e2e
def test_a_changed_commentary_rebuilds_only_the_regional_report(tiny_site, tiny, tmp_path, capfd):
    data = tiny.copy(tmp_path / "data")
    _write(data.data, HOSTILE)
    out = _copy(tiny_site, tmp_path)
    result = _report(capfd, data, out)
    assert result.returncode == 0, result.stderr
    assert f"  1 run, {JOBS - 1} unchanged since the last run" in result.stdout
    page = f"{PERIOD}/{TINY_REGION}/regional-benchmark.html"
    assert page in _differ(tiny_site, out)
    html = (out / page).read_text(encoding="utf-8")
    assert "Commentary from the region" in html and "<script" not in html
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["jobs"], "the manifest still lists every report"
