"""The package stays in small modules and short functions (see ../shared/GUIDE.md, Habits)."""

from tests.sizes import FUNCTION_LINES, MODULE_LINES, functions, modules


def test_no_module_over_500_lines():
    over = {name: n for name, n in modules().items() if n > MODULE_LINES}
    assert not over, f"modules over {MODULE_LINES} lines: {over}"


def test_no_function_over_60_lines():
    over = {name: n for name, n in functions().items() if n > FUNCTION_LINES}
    assert not over, f"functions over {FUNCTION_LINES} lines: {over}"


def test_the_measure_counts_a_function_from_its_def_to_its_last_line(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    (pkg / "m.py").write_text(f"def long():\n{body}\n\n\ndef short():\n    return 1\n")
    assert functions(pkg) == {"pkg/m.py:1 long": 62, "pkg/m.py:65 short": 2}
    assert modules(pkg) == {"pkg/m.py": 66}
