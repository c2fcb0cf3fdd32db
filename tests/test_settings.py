"""Settings declared once: the parser, ``Settings`` and the README's option list all follow
``pipeline.orchestration.settings.COMMANDS``."""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import _parser
from pipeline.orchestration.settings import (
    CELL_TIMEOUT,
    COMMANDS,
    DEFAULT_OUT,
    PROJECT,
    Settings,
    settings_for,
)

README = Path(__file__).resolve().parents[1] / "README.md"


def _name(option) -> str:
    """How the README names an option: its flag, or a positional argument's metavar."""
    return option.flag if option.flag.startswith("-") else option.metavar


def _readme_options() -> dict[str, dict[str, str]]:
    """The README's "Options" section: {command: {option: default as written}}."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    listed: dict[str, dict[str, str]] = {}
    command = None
    for line in section.splitlines():
        heading = re.fullmatch(r"### `tartan ([a-z-]+)`", line)
        if heading:
            command = heading[1]
            assert command not in listed, f"{command} is listed twice"
            listed[command] = {}
        elif line.startswith("| `"):
            assert command, f"an option before any command: {line}"
            cells = [c.strip() for c in line.strip("|").split("|")]
            name = cells[0].strip("`").split()[0]
            assert name not in listed[command], f"{command} {name} is listed twice"
            listed[command][name] = cells[1].replace("`", "")
    return listed


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_the_readme_lists_every_option_of_every_command_with_its_default():
    listed = _readme_options()
    assert set(listed) == set(COMMANDS), "a command missing from the README, or not declared"
    for command, options in COMMANDS.items():
        declared = {_name(o): o.shown_default for o in options}
        assert listed[command] == declared, f"README's options of {command}"


def test_every_default_has_a_name_the_readme_can_show():
    for command, options in COMMANDS.items():
        for o in options:
            assert "None" not in o.shown_default, f"{command} {o.flag}: declare its shown default"


def test_every_declared_option_reaches_the_parser_with_its_default_and_help():
    parsers = _subparsers()
    assert list(parsers) == list(COMMANDS)
    for command, options in COMMANDS.items():
        actions = [a for a in parsers[command]._actions if not isinstance(a, argparse._HelpAction)]
        assert [a.dest for a in actions] == [o.dest for o in options], command
        for action, o in zip(actions, options, strict=True):
            where = f"{command} {o.flag}"
            assert action.option_strings == ([o.flag] if o.flag.startswith("-") else []), where
            assert action.default == o.default, where
            assert action.help == o.help, where
            assert action.metavar == o.metavar, where
            assert action.choices == o.choices, where
            if action.option_strings:
                assert action.required == o.required, where
        usage = parsers[command].format_help()
        for o in options:
            assert _name(o) in usage, f"{command} --help names {_name(o)}"


def test_the_cell_timeout_is_declared_once():
    for command in ("report", "datapack"):
        (o,) = [o for o in COMMANDS[command] if o.flag == "--cell-timeout"]
        assert o.default == CELL_TIMEOUT == Settings().cell_timeout == 600
        assert "(default: 600)" in _subparsers()[command].format_help()


def test_settings_defaults_are_their_options_defaults():
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    for command, options in COMMANDS.items():
        for o in options:
            if o.setting is None:
                continue
            assert o.setting in defaults, f"{command} {o.flag} fills no Settings field"
            value = o.setting_value(o.default)
            assert value is None or value == defaults[o.setting], f"{command} {o.flag}"


def test_parsed_options_become_a_runs_settings():
    parsers = _subparsers()

    def settings(*argv):
        return settings_for(argv[0], vars(parsers[argv[0]].parse_args(argv[1:])))

    assert settings("report") == Settings(
        data=Path("data/demo"),
        out=DEFAULT_OUT,
        contracts=PROJECT / "data_contracts",
        notebooks=PROJECT / "notebooks",
    )
    s = settings(
        *["report", "--region", "ZR1", "--period", "latest", "--packs", "none", "--workers", "3"],
        *["--unsuppressed", "--no-progress", "--force", "--cell-timeout", "5", "--marking", ""],
    )
    assert (s.regions, s.periods, s.packs, s.workers) == (["ZR1"], ["latest"], "none", 3)
    assert (s.suppress, s.progress, s.force, s.cell_timeout, s.marking) == (
        False,
        False,
        True,
        5,
        "",
    )
    s = settings("datapack", "--source", "dfe", "--year", "2024", "--out", "o")
    assert (s.data, s.periods, s.out, s.packs) == (Path("dfe"), ["2024"], Path("o"), "latest")
    assert settings("validate", "a.csv", "b").returns == [Path("a.csv"), Path("b")]
    assert settings("validate").returns is None
    assert settings("template", "--la", "ZL101", "--period", "2026-27-Q2").data == Path("data/demo")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--workers", "0"], "argument --workers: expected a whole number of at least 1"),
        (["report", "--region", "../x"], "argument --region: '../x' is not a code"),
        (["datapack", "--source", "s", "--year", "zz"], "argument --year: period 'zz' is not a"),
        (["report", "--marking", "a\nb"], "argument --marking: 'a\\nb' is not a marking"),
        (["demo-data", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    ],
)
def test_a_value_a_check_refuses_is_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_declaration_is_light():
    """The command line reads it before deciding whether anything needs the pipeline."""
    code = "import sys, pipeline.cli; pipeline.cli._parser(); print('pandas' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"
