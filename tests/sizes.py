"""Module and function sizes in ``pipeline/`` against the limits the guide sets: no module over
500 lines and no function over 60 lines (``python -m tests.sizes`` prints the figures)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"
MODULE_LINES, FUNCTION_LINES = 500, 60


def modules(root: Path = PACKAGE) -> dict[str, int]:
    """Each module's length in lines, by its path relative to the package's parent."""
    return {
        p.relative_to(root.parent).as_posix(): len(p.read_text("utf-8").splitlines())
        for p in sorted(root.rglob("*.py"))
    }


def functions(root: Path = PACKAGE) -> dict[str, int]:
    """Each function's and method's length in lines (its def to its last line), by
    'path:line name'."""
    out = {}
    for p in sorted(root.rglob("*.py")):
        tree = ast.parse(p.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                where = f"{p.relative_to(root.parent).as_posix()}:{node.lineno} {node.name}"
                out[where] = node.end_lineno - node.lineno + 1
    return out


def main() -> int:
    mods, funcs = modules(), functions()
    over_m = {k: v for k, v in mods.items() if v > MODULE_LINES}
    over_f = {k: v for k, v in funcs.items() if v > FUNCTION_LINES}
    print(
        f"{len(mods)} modules: longest {max(mods.values())} lines "
        f"({max(mods, key=mods.get)}), {len(over_m)} over {MODULE_LINES}"
    )
    print(
        f"{len(funcs)} functions: longest {max(funcs.values())} lines "
        f"({max(funcs, key=funcs.get)}), {len(over_f)} over {FUNCTION_LINES}"
    )
    for name, n in sorted({**over_m, **over_f}.items()):
        print(f"  {name}: {n} lines")
    return 1 if over_m or over_f else 0


if __name__ == "__main__":
    sys.exit(main())
