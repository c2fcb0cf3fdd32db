"""Tartan deletes or overwrites only what it wrote itself, inside its own output folder, and never
through a link that leads out of it: a user's files under --out, and whatever a link there points
to, are left as they were."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.errors import ConfigError
from tests.conftest import TINY_PERIODS, cli

PERIOD = TINY_PERIODS[-1]
REFUSED = "outside the output folder; Tartan does not write through links out of its folder"


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (links not followed) with its SHA-256, and every link's target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = p.relative_to(folder).as_posix()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _validate(capfd, tiny, out):
    return cli(capfd, "validate", *tiny.args, "--out", out)


def _report(capfd, tiny, out):
    return cli(capfd, "report", *tiny.args, "--out", out, "--period", "latest", "--no-progress")


def _plant(out: Path, files: list[str], text: str) -> dict[str, str]:
    planted = {}
    for rel in files:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(f"{text} {rel}", encoding="utf-8")
        planted[rel] = f"{text} {rel}"
    return planted


def _still_there(out: Path, planted: dict[str, str]) -> None:
    for rel, text in planted.items():
        assert (out / rel).is_file(), f"{rel}: the user's file was deleted"
        assert (out / rel).read_text(encoding="utf-8") == text, f"{rel}: overwritten"


# --------------------------------------------------------------------------- a user's own files


def test_a_run_keeps_the_users_own_files_anywhere_in_its_folder(tiny, tmp_path, capfd):
    out = tmp_path / "out"
    users = _plant(
        out,
        [
            ".notes.tmp",
            "notes.txt",
            "validation/.draft.html.tmp",
            "validation/feedback/.x.tmp",
            "mine/.y.tmp",
            "mine/deep/.z.abc.tmp",
            "mine/.a.b.tartan-tmp",  # Tartan's pattern, but not in a folder of Tartan's
        ],
        "the user's",
    )
    result = _validate(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert (out / "validation" / "index.html").is_file()
    _still_there(out, users)


def test_a_killed_runs_temporaries_go_and_nothing_else(tiny_site, tiny, tmp_path, capfd):
    """What a driver killed mid-write leaves (Tartan-named temporaries in Tartan's folders, and
    its work folder) is removed by the next run, under its lock; a user's files stay; the folder
    is then what a clean build makes."""
    out = tmp_path / "out"
    shutil.copytree(tiny_site, out)
    leftovers = _plant(
        out,
        [
            ".index.html.k3j_2x9a.tartan-tmp",
            ".manifest.json.a1b2c3d4.tartan-tmp",
            "validation/.validation.json.zzzz1234.tartan-tmp",
            "validation/feedback/.ZL101.html.q0w9e8r7.tartan-tmp",
            f"{PERIOD}/ZR1/.regional-benchmark.html.p0o9i8u7.tartan-tmp",
            f"{PERIOD}/ZR1/ZL101/.self-assessment.ipynb.m1n2b3v4.tartan-tmp",
            f"logs/{PERIOD}/ZR1/.regional-benchmark.ipynb.x1y2z3w4.tartan-tmp",
            f".tartan-work/{PERIOD}/ZR1/context.json",
        ],
        "half",
    )
    users = _plant(
        out,
        [
            ".x.tmp",
            "notes.txt",
            f"{PERIOD}/ZR1/.x.tmp",
            "validation/.notes.tmp",
            "mine/.index.html.k3j_2x9a.tartan-tmp",
        ],
        "the user's",
    )
    # killed before it had written this report: the next run builds it, and the site again
    (out / PERIOD / "ZR1" / "ZL105" / "self-assessment.html").unlink()
    result = _report(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    for rel in leftovers:
        assert not (out / rel).exists(), f"{rel}: a killed run's leftover was kept"
    assert not (out / ".tartan-work").exists()
    _still_there(out, users)
    mine = {rel for rel in _snapshot(out) if rel in users or rel == "mine"}
    assert {k: v for k, v in _snapshot(out).items() if k not in mine} == _snapshot(tiny_site)


# --------------------------------------------------------------------------- links out of --out


def _elsewhere(tmp_path: Path) -> Path:
    """A folder outside --out with files of its own, as a link in --out might point to."""
    there = tmp_path / "elsewhere"
    _plant(
        there,
        ["index.html", "validation.json", "feedback/ZZ999.html", ".notes.tmp", "keep.txt"],
        "not Tartan's",
    )
    return there


@pytest.mark.parametrize(
    ("link", "to"),
    [
        ("validation", "."),
        ("validation/feedback", "feedback"),
        ("validation/index.html", "index.html"),
        (".tartan.lock", "keep.txt"),
    ],
)
def test_validate_never_writes_or_deletes_through_a_link_out(tiny, tmp_path, capfd, link, to):
    out, there = tmp_path / "out", _elsewhere(tmp_path)
    (out / link).parent.mkdir(parents=True, exist_ok=True)
    (out / link).symlink_to(there / to)
    before = _snapshot(there)
    result = _validate(capfd, tiny, out)
    assert result.returncode == 2, result.stderr
    assert f"{out / link}: is a link to {(there / to).resolve()}, {REFUSED}" in result.stderr
    assert "remove the link or choose another --out" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(there) == before, "nothing outside --out was written or deleted"
    assert (out / link).is_symlink(), "the user's link is left as it was"


@pytest.mark.parametrize("link", ["index.html", PERIOD, "logs", ".tartan-work", "manifest.json"])
def test_report_never_writes_or_deletes_through_a_link_out(tiny_site, tiny, tmp_path, capfd, link):
    out, there = tmp_path / "out", tmp_path / "elsewhere"
    shutil.copytree(tiny_site, out)
    (out / "logs").mkdir(exist_ok=True)
    if link == ".tartan-work":
        _plant(out, [".tartan-work/keep.txt", ".tartan-work/.notes.tmp"], "not Tartan's")
    shutil.move(out / link, there)  # moved out of the folder, a link left in its place
    (out / link).symlink_to(there)

    def seen() -> dict[str, str] | bytes:
        return _snapshot(there) if there.is_dir() else there.read_bytes()

    before = seen()
    result = _report(capfd, tiny, out)
    assert result.returncode == 2, result.stderr
    assert f"{out / link}: is a link to {there.resolve()}, {REFUSED}" in result.stderr
    assert seen() == before, "nothing outside --out was written or deleted"


def test_links_that_stay_inside_the_output_folder_are_followed(tiny, tmp_path, capfd):
    out = tmp_path / "out"
    (out / "pages").mkdir(parents=True)
    (out / "validation").symlink_to(out / "pages")
    result = _validate(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert (out / "pages" / "index.html").is_file()
    assert (out / "validation").is_symlink()


def test_the_output_folder_itself_may_be_a_link(tiny, tmp_path, capfd):
    real, out = tmp_path / "shared" / "tartan", tmp_path / "out"
    real.mkdir(parents=True)
    out.symlink_to(real)
    result = _validate(capfd, tiny, out)
    assert result.returncode == 0, result.stderr
    assert (real / "validation" / "index.html").is_file()


# --------------------------------------------------------------------------- the guard itself


def test_writes_never_go_through_a_link_out_and_a_link_in_is_replaced(tmp_path):
    from pipeline.edges.files import remove_file, write_bytes_atomic

    root, there = tmp_path / "out", _elsewhere(tmp_path)
    (root / "site").mkdir(parents=True)
    (root / "site" / "pages").symlink_to(there)
    before = _snapshot(there)
    with pytest.raises(ConfigError, match=f"{root / 'site' / 'pages'}: is a link to {there}, "):
        write_bytes_atomic(root / "site" / "pages" / "index.html", b"new", root=root)
    with pytest.raises(ConfigError, match="is a link to"):
        remove_file(root / "site" / "pages" / "keep.txt", root=root)
    assert _snapshot(there) == before
    # a page that is a link to a file inside the folder: the page is written in the link's place
    (root / "theirs.html").write_text("theirs", encoding="utf-8")
    (root / "site" / "index.html").symlink_to(root / "theirs.html")
    write_bytes_atomic(root / "site" / "index.html", b"Tartan's", root=root)
    assert not (root / "site" / "index.html").is_symlink()
    assert (root / "site" / "index.html").read_bytes() == b"Tartan's"
    assert (root / "theirs.html").read_text(encoding="utf-8") == "theirs"
    # and removing a link removes the link, never what it points to
    (root / "site" / "old.html").symlink_to(root / "theirs.html")
    remove_file(root / "site" / "old.html", root=root)
    assert not (root / "site" / "old.html").is_symlink()
    assert (root / "theirs.html").read_text(encoding="utf-8") == "theirs"
    # nothing to do with any folder outside the output folder
    with pytest.raises(ConfigError, match="outside the output folder"):
        write_bytes_atomic(tmp_path / "other.html", b"x", root=root)


def test_an_earlier_runs_outputs_are_removed_only_where_they_are_its_own(tmp_path):
    """A suppressed run removes an unsuppressed run's reports, by the manifest: only the job's
    own outputs by name, inside the folder, and a link rather than what it points to."""
    from pipeline.orchestration import provenance as prov
    from pipeline.orchestration.runner import Product, merge_earlier

    out = tmp_path / "out"
    folder = out / PERIOD / "ZR1"
    folder.mkdir(parents=True)
    (out / "mine").mkdir()
    (out / "mine" / "notes.html").write_text("the user's", encoding="utf-8")
    (tmp_path / "mine.html").write_text("the user's", encoding="utf-8")
    (out / "validation").mkdir()
    (out / "validation" / "index.html").write_text("a page", encoding="utf-8")
    (folder / "regional-benchmark.html").symlink_to(out / "mine" / "notes.html")
    (folder / "regional-benchmark.csv").write_text("figures", encoding="utf-8")
    job = f"{PERIOD}/ZR1/regional-benchmark"
    outputs = [f"{job}.html", f"{job}.csv", "validation/index.html", "../mine.html"]
    entry = {"id": job, "provenance": {"disclosure": prov.NO_DISCLOSURE_CONTROL}}
    (out / "manifest.json").write_text(
        json.dumps({"jobs": [{**entry, "outputs": outputs}]}), encoding="utf-8"
    )
    assert merge_earlier(Product(), None, out, set(), "suppressed", out) == []
    assert not (folder / "regional-benchmark.html").is_symlink()
    assert not (folder / "regional-benchmark.csv").exists()
    assert (out / "mine" / "notes.html").read_text(encoding="utf-8") == "the user's"
    assert (out / "validation" / "index.html").is_file(), "not the job's output"
    assert (tmp_path / "mine.html").is_file(), "not in the folder"


def test_processes_a_run_starts_are_held_to_its_folder_too(tmp_path):
    """A run's workers are other processes: they inherit the folder they may write in."""
    from pipeline.edges.files import confined

    root, there = tmp_path / "out", _elsewhere(tmp_path)
    root.mkdir()
    (root / "validation").symlink_to(there)
    before = _snapshot(there)
    worker = (
        "import sys; from pathlib import Path; from pipeline.core.errors import ConfigError\n"
        "from pipeline.edges.files import write_bytes_atomic\n"
        "try:\n"
        "    write_bytes_atomic(Path(sys.argv[1]), b'a worker wrote this')\n"
        "except ConfigError as exc:\n"
        "    sys.exit(str(exc))\n"
    )
    page = root / "validation" / "index.html"
    with confined(root):
        result = subprocess.run(
            [sys.executable, "-c", worker, str(page)], capture_output=True, text=True
        )
    assert f"{root / 'validation'}: is a link to {there}, {REFUSED}" in result.stderr
    assert _snapshot(there) == before
