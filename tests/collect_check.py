"""Every test folder collects alone and beside any other, in either order (issue 16 point 8).

    python -m tests.collect_check            # each folder alone, then every ordered pair
    python -m tests.collect_check --alone    # each folder alone only (about 15 collections)

Each collection is its own `pytest --collect-only` process, two at a time. The layout rules
that make this hold (and that tests/unit stays pure) are checked statically by tests/unit/test_test_layout.py (`layout_problems`):
every folder under tests/ is a package, and helpers are imported as `tests.<folder>.<module>`,
never `from conftest import ...` or by a bare module name that depends on sys.path order.
"""
from __future__ import annotations

import argparse
import ast
import itertools
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def folders(tests: Path = TESTS) -> list[tuple[str, list[str]]]:
    """(name, pytest arguments) per folder holding test files: a leaf folder by its path, a
    folder with test subfolders by its own files only (the subfolders are units of their own)."""
    out = []
    for folder in sorted({p.parent for p in tests.rglob("test_*.py") if "__pycache__" not in p.parts}):
        own = sorted(folder.glob("test_*.py"))
        has_sub = any(sub.parent != folder for sub in folder.rglob("test_*.py"))
        rel = folder.relative_to(tests.parent).as_posix()
        out.append((rel, [p.relative_to(tests.parent).as_posix() for p in own] if has_sub else [rel]))
    return out


def layout_problems(tests: Path = TESTS) -> list[str]:
    """Static rules (pure over the files): packages everywhere, no imports that pick a module by
    whichever folder pytest put on sys.path last."""
    problems = []
    local = {p.stem for p in tests.rglob("*.py")} - {"__init__"}
    for folder in sorted({p.parent for p in tests.rglob("*.py") if "__pycache__" not in p.parts}):
        if not (folder / "__init__.py").exists():
            problems.append(f"{folder.relative_to(tests.parent)}: no __init__.py (modules would be imported by bare name)")
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                top = name.split(".")[0]
                if top == "conftest" or top in local:
                    problems.append(f"{path.relative_to(tests.parent)}:{node.lineno}: imports {name!r}; "
                                    "use `from tests.<folder>.<module> import ...` (conftest holds fixtures only)")
    return problems + unit_purity_problems(tests)


# tests/unit is pure (issue 15 point 5): no AWS stand-in, no sockets, no subprocess; those tests
# belong in tests/integration (moto in-process, local peers) or tests/e2e (the whole stack).
IMPURE_MODULES = ("moto", "socket", "socketserver", "http.server", "subprocess", "tests.integration", "tests.e2e")


def unit_purity_problems(tests: Path = TESTS) -> list[str]:
    """Files under tests/unit that import an AWS stand-in, a socket or server module, subprocess or
    an integration/e2e kit, name `mock_aws`, or take the `aws` fixture."""
    problems = []
    for path in sorted((tests / "unit").rglob("*.py")):
        where = path.relative_to(tests.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            bad = next((n for n in names for m in IMPURE_MODULES if n == m or n.startswith(m + ".")), None)
            if bad:
                problems.append(f"{where}:{node.lineno}: imports {bad!r}; a unit test is pure: move it to tests/integration")
            elif isinstance(node, ast.Name) and node.id == "mock_aws":
                problems.append(f"{where}:{node.lineno}: uses mock_aws; a unit test is pure: move it to tests/integration")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "aws" in {
                    a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}:
                problems.append(f"{where}:{node.lineno}: {node.name}() takes the `aws` fixture (moto); "
                                "a unit test is pure: move it to tests/integration")
    return problems


def collect(args: list[str]) -> tuple[bool, str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
    return done.returncode == 0, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alone", action="store_true", help="each folder alone only, no pairs")
    parser.add_argument("--jobs", type=int, default=2)
    opts = parser.parse_args(argv)
    problems = layout_problems()
    for problem in problems:
        print("layout:", problem)
    units = folders()
    runs = [([name], args) for name, args in units]
    if not opts.alone:
        runs += [([a[0], b[0]], a[1] + b[1]) for a, b in itertools.permutations(units, 2)]
    started = time.monotonic()
    failed = []
    with ThreadPoolExecutor(opts.jobs) as pool:  # results stream as they come, so a long run reports as it goes
        for done, (names, (ok, tail)) in enumerate(zip((r[0] for r in runs), pool.map(lambda run: collect(run[1]), runs), strict=True), 1):
            if not ok:
                failed.append(names)
                print(f"FAILED to collect: {' then '.join(names)}\n{tail}\n", flush=True)
            if done % 15 == 0:
                print(f"{done}/{len(runs)} collected, {len(failed)} failed", flush=True)
    print(f"{len(runs) - len(failed)}/{len(runs)} collections passed ({len(units)} folders"
          f"{'' if opts.alone else ', alone and every ordered pair'}) in {time.monotonic() - started:.0f} s")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
