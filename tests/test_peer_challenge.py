"""Peer-challenge groups (peer_challenge.yaml): every check of the file stops the run with exit 2,
all of them reported together, each naming the file, its line and the LA; a group pack shows its
LAs side by side with each one's evidence exactly as its own pack states it, names the
moderators and links the packs; the regional report and the index link it; adding the file
rebuilds only what shows the groups, and a rebuild gives the same bytes."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline.core.errors import ConfigError
from pipeline.edges import contracts as ct
from pipeline.edges import peer_challenge, reference
from pipeline.edges.demo_cycle import peer_challenge_yaml
from tests.conftest import ROOT, TINY_LAS, TINY_PERIODS, TINY_REGION, cli, tartan
from tests.test_scale import _differ, _files

PERIOD = TINY_PERIODS[-1]
#: the tiny dataset's four LAs in two pairs, each LA moderated by one of the other pair
GROUPS = """\
year: 2026-27
groups:
  - id: pair-a
    name: Pair A
    las: [ZL101, ZL105]
    moderators: {ZL101: ZL107, ZL105: ZL108}
  - id: pair-b
    name: Pair B
    las: [ZL107, ZL108]
    moderators: {ZL107: ZL101, ZL108: ZL105}
"""
#: every problem at once (the tiny reference gains three LAs of another region, ZR2)
BAD = """\
year: 2026-28
groups:
  - id: pair-a
    las: [ZL101, ZL105, ZL999]
    moderators:
      ZL101: ZL101
      ZL105: ZL101
  - id: pair-b
    las: [ZL107, ZL105]
    moderators: {ZL107: ZL998}
  - id: pair-c
    las: [ZL108, ZL201]
  - id: pair-d
    las: [ZL202]
"""
#: (line, LA, what the message says) for each problem in BAD
PROBLEMS = [
    (1, "2026-28", "is not a financial year"),
    (2, "ZL203", "is in no group"),
    (4, "ZL999", "is not in reference/local_authorities.csv"),
    (6, "ZL101", "moderates itself"),
    (7, "ZL105", "an LA of its own group"),
    (9, "ZL105", "is also in group pair-a (line 4)"),
    (10, "ZL998", "is not in reference/local_authorities.csv"),
    (12, "ZL201", "expected a group's LAs all in one region"),
    (14, "ZL202", "has 1 LA (ZL202); expected 2 to 4"),
]


def _with_region_two(data: Path) -> None:
    """Three LAs of ZR2 added to a copy's reference (they send no returns)."""
    path = data / "reference" / "local_authorities.csv"
    extra = "".join(f"ZL20{k},Midvale LA {k},ZR2,Midvale Demonstration Region\n" for k in (1, 2, 3))
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")


@pytest.mark.parametrize("line, la, says", PROBLEMS, ids=[p[2] for p in PROBLEMS])
def test_each_problem_is_refused_naming_the_file_line_and_la(tiny, tmp_path, line, la, says):
    data = tiny.copy(tmp_path / "data")
    _with_region_two(data.data)
    (data.data / "peer_challenge.yaml").write_text(BAD, encoding="utf-8")
    ref = reference.load(data.data)
    catalogue = ct.load_catalogue(data.contracts / "indicators.yaml")
    with pytest.raises(ConfigError) as exc:
        peer_challenge.load(data.data, ref, catalogue)
    found = [m for m in str(exc.value).splitlines() if f"peer_challenge.yaml, line {line}:" in m]
    assert any(la in m and says in m for m in found), (line, la, says, str(exc.value))


def test_every_problem_stops_the_run_with_exit_2_reported_together(tiny, tmp_path, capfd):
    data = tiny.copy(tmp_path / "data")
    _with_region_two(data.data)
    path = data.data / "peer_challenge.yaml"
    path.write_text(BAD, encoding="utf-8")
    out = tmp_path / "out"
    r = cli(capfd, "report", *data.args, "--out", out, "--period", "latest", "--no-progress")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{len(PROBLEMS)} problems with the peer-challenge groups" in r.stderr
    for line, la, says in PROBLEMS:
        assert re.search(rf"{re.escape(str(path))}, line {line}: .*{la}.*", r.stderr), la
        assert says in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists(), "nothing is written before the groups are checked"


def test_an_la_refused_in_its_group_is_not_refused_again_under_moderators(tiny, tmp_path):
    """A code that cannot be in its group is told once, where it is listed: not again as a
    moderated LA that is not one of the group's (as a region's copy of a national file would
    otherwise be told twice for every LA of the other regions)."""
    text = GROUPS.replace("las: [ZL107, ZL108]", "las: [ZL107, ZL108, ZL999]").replace(
        "moderators: {ZL107: ZL101, ZL108: ZL105}",
        "moderators: {ZL107: ZL101, ZL108: ZL105, ZL999: ZL101}",
    )
    (tmp_path / "peer_challenge.yaml").write_text(text, encoding="utf-8")
    ref = reference.load(tiny.data)
    catalogue = ct.load_catalogue(tiny.contracts / "indicators.yaml")
    with pytest.raises(ConfigError) as exc:
        peer_challenge.load(tmp_path, ref, catalogue)
    told = [m for m in str(exc.value).splitlines() if "ZL999" in m]
    assert len(told) == 1 and "is not in reference/local_authorities.csv" in told[0], told


@pytest.mark.parametrize(
    "text, says",
    [
        ("year: 2026-27\ngroups: []\n", "expected groups: a list of groups"),
        ("year: 2026-27\ngroup: []\n", "unknown key 'group'"),
        (GROUPS.replace("id: pair-b", "id: Pair B!"), "expected a short slug"),
        (GROUPS.replace("id: pair-b", "id: pair-a"), "group id pair-a is used twice"),
        (GROUPS + "indicators: [no_such_id]\n", "indicator 'no_such_id' is not in the catalogue"),
        (GROUPS.replace("ZL101: ZL107", "ZL107: ZL101"), "not one of the group's LAs"),
    ],
)
def test_a_malformed_file_is_refused_by_line(tiny, tmp_path, text, says):
    (tmp_path / "peer_challenge.yaml").write_text(text, encoding="utf-8")
    ref = reference.load(tiny.data)
    catalogue = ct.load_catalogue(tiny.contracts / "indicators.yaml")
    with pytest.raises(ConfigError, match=r"peer_challenge\.yaml, line \d+: ") as exc:
        peer_challenge.load(tmp_path, ref, catalogue)
    assert says in str(exc.value)


def test_the_demo_groups_cover_every_demo_la_in_groups_of_three_or_four(demo_data):
    assert (demo_data / "peer_challenge.yaml").read_text("utf-8") == peer_challenge_yaml()
    ref = reference.load(demo_data)
    catalogue = ct.load_catalogue(ROOT / "data_contracts" / "indicators.yaml")
    found = peer_challenge.load(demo_data, ref, catalogue)
    las = [la for g in found.groups for la in g.las]
    assert sorted(las) == sorted(ref.local_authorities["la_code"])
    assert all(len(g.las) in (3, 4) for g in found.groups)
    for g in found.groups:
        assert set(g.moderators) == set(g.las), "every LA has a moderator"
        for mod in g.moderators.values():
            assert mod not in g.las and ref.region_of[mod] == g.region_code
    assert found.covers("2026-27-Q2") and not found.covers("2025-26-Q4")


# --------------------------------------------------------------------------- group packs


@pytest.fixture(scope="module")
def grouped(tiny_site, tiny, tmp_path_factory):
    """The tiny site's outputs, run again with GROUPS added; (data, outputs, what it printed,
    the site before)."""
    folder = tmp_path_factory.mktemp("grouped")
    data = tiny.copy(folder / "data")
    (data.data / "peer_challenge.yaml").write_text(GROUPS, encoding="utf-8")
    out = folder / "outputs"
    shutil.copytree(tiny_site, out)
    r = tartan("report", *data.args, "--out", out, "--period", "latest", "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    return data, out, r.stdout, tiny_site


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _items(page: str, start: str, ends=("<h3", "<h4", "</div>", "</ol>")) -> list[str]:
    """The list items from `start` to the next of `ends`."""
    i = page.index(start) + len(start)
    stop = min((j for e in ends if (j := page.find(e, i)) >= 0), default=len(page))
    return [_text(x) for x in re.findall(r"<li>(.*?)</li>", page[i:stop], flags=re.S)]


@pytest.mark.e2e
def test_adding_groups_builds_their_packs_and_rebuilds_only_the_regional_report(grouped):
    _, out, stdout, before = grouped
    assert "7 of 7 built" in stdout and "2 peer-challenge group packs" in stdout
    assert "  3 run, 4 unchanged since the last run" in stdout
    changed = _differ(before, out)
    stems = [f"{PERIOD}/{TINY_REGION}/peer-challenge-pair-{x}" for x in "ab"]
    for stem in stems:
        assert {f"{stem}.html", f"{stem}.ipynb", f"{stem}.csv"} <= set(changed)
    packs = [c for c in changed if "/self-assessment." in c]
    assert packs == [], "the LAs' own packs are as they were"


@pytest.mark.e2e
def test_a_group_pack_shows_its_las_side_by_side_with_their_packs_evidence(grouped):
    _, out, _, _ = grouped
    folder = out / PERIOD / TINY_REGION
    page = (folder / "peer-challenge-pair-a.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "<h1>Pair A: peer-challenge group pack, 2026-27 Q2</h1>" in page
    table = page[page.index('<table class="rug group">') :]
    table = table[: table.index("</table>")]
    head = _text(table[: table.index("</thead>")])
    assert head.index("Aldermoor") < head.index("Elmsworth") < head.index("Region")
    assert "Aldermoor: SN mean" in head and "England" in head
    assert re.search(r'<td class="band-[ABCD]"><span class="v">[^<]+</span>', table)
    assert all(f"band {b}" in table for b in re.findall(r'class="band-([ABCD])"', table))
    for code, name, moderator in (
        ("ZL101", "Aldermoor", "Greyhollow"),
        ("ZL105", "Elmsworth", "Harrowmere"),
    ):
        pack = (folder / code / "self-assessment.html").read_text(encoding="utf-8")
        assert f'href="{code}/self-assessment.html"' in page
        mine = page[page.index(f"<h3>{name}</h3><p>As stated") :]
        for heading, pack_start in (
            ("<h4>Strengths", '<h3 id="strengths">'),
            ("<h4>Areas for development", '<h3 id="development">'),
        ):
            assert _items(mine, heading) == _items(pack, pack_start), (name, heading)
        # the pack may group its questions (about areas for development, about strengths)
        asked = [q for part in pack.split('<ol class="questions">')[1:] for q in _items(part, "")]
        assert sorted(_items(mine, "<h4>Questions")) == sorted(asked), name
        assert f"For {moderator}, moderating {name}" in page
        assert f"Notes on {name} (moderator: {moderator})" in page
    assert 'href="regional-benchmark.html"' in page
    regional = (folder / "regional-benchmark.html").read_text(encoding="utf-8")
    assert 'href="peer-challenge-pair-a.html"' in regional
    assert 'href="peer-challenge-pair-b.html"' in regional
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="peer-challenge">Peer challenge</h2>' in index
    assert f'href="{PERIOD}/{TINY_REGION}/peer-challenge-pair-a.html"' in index


@pytest.mark.e2e
def test_the_moderator_is_prompted_once_per_kind_and_where_the_group_can_help(grouped):
    """One prompt names all of an LA's strengths, one all its areas for development; an area
    for development that another LA of the group has as a strength is a prompt of its own."""
    _, out, _, _ = grouped
    folder = out / PERIOD / TINY_REGION
    page = (folder / "peer-challenge-pair-a.html").read_text(encoding="utf-8")
    las = {"Aldermoor": ("ZL101", "Greyhollow"), "Elmsworth": ("ZL105", "Harrowmere")}
    labels = {}
    for name, (code, _) in las.items():
        pack = (folder / code / "self-assessment.html").read_text(encoding="utf-8")
        labels[name] = {
            kind: {t.split(": ")[0] for t in _items(pack, f'<h3 id="{kind}">')}
            for kind in ("strengths", "development")
        }
    for name, (_, moderator) in las.items():
        (other,) = set(las) - {name}
        prompts = _items(page, f"For {moderator}, moderating {name}")
        assert len(set(prompts)) == len(prompts), "no prompt said twice"
        for kind, start in (
            ("strengths", "Strengths: "),
            ("development", "Areas for development: "),
        ):
            said = [p for p in prompts if p.startswith(start)]
            assert len(said) == (1 if labels[name][kind] else 0), (name, kind)
            assert all(label in said[0] for label in labels[name][kind])
        shared = labels[name]["development"] & labels[other]["strengths"]
        learning = [p for p in prompts if " could take from " in p]
        assert sorted(p.split(" is an area for development")[0] for p in learning) == sorted(shared)
        assert all(f"a strength for {other}" in p for p in learning)


@pytest.mark.e2e
def test_a_group_packs_csv_has_a_row_per_la_and_indicator_shown(grouped):
    _, out, _, _ = grouped
    lines = (out / PERIOD / TINY_REGION / "peer-challenge-pair-b.csv").read_text("utf-8")
    rows = lines.splitlines()[1:]
    n = len(peer_challenge.DEFAULT_INDICATORS)
    assert sum(",la,ZL107," in r for r in rows) == n and sum(",la,ZL108," in r for r in rows) == n
    assert sum(",england," in r for r in rows) == n
    assert not any(f",la,{la}," in r for r in rows for la in set(TINY_LAS) - {"ZL107", "ZL108"})


@pytest.mark.e2e
def test_a_group_pack_is_the_same_bytes_when_rebuilt(grouped, tmp_path, capfd):
    data, out, _, _ = grouped
    again = tmp_path / "again"
    shutil.copytree(out, again)
    r = cli(
        capfd,
        "report",
        *data.args,
        "--out",
        again,
        "--period",
        "latest",
        "--no-progress",
        "--force",
    )
    assert r.returncode == 0, r.stderr
    mine = {k: v for k, v in _files(out).items() if "peer-challenge" in k}
    assert len(mine) == 6
    assert {k: v for k, v in _files(again).items() if "peer-challenge" in k} == mine


@pytest.mark.e2e
def test_without_the_file_there_are_no_group_packs(tiny_site):
    assert not list(tiny_site.rglob("peer-challenge*"))
    assert "Peer challenge" not in (tiny_site / "index.html").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_groups_of_another_year_leave_no_group_pack_and_the_index_says_why(
    grouped, tmp_path, capfd
):
    data, out, _, _ = grouped
    later = data.copy(tmp_path / "data")
    path = later.data / "peer_challenge.yaml"
    path.write_text(GROUPS.replace("year: 2026-27", "year: 2027-28"), encoding="utf-8")
    folder = tmp_path / "outputs"
    shutil.copytree(out, folder)
    r = cli(capfd, "report", *later.args, "--out", folder, "--period", "latest", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "peer-challenge group pack" not in r.stdout
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {j["kind"] for j in manifest["jobs"]} == {"regional-benchmark", "self-assessment"}
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "names groups for 2027-28, but no quarter of that year" in index
    assert "peer-challenge-pair-a.html" not in index
    regional = (folder / PERIOD / TINY_REGION / "regional-benchmark.html").read_text("utf-8")
    assert "peer-challenge-pair-a.html" not in regional
