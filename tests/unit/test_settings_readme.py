"""One way to configure (issue 15, point 3): every environment variable is read in
chalicelib/settings.py or crawlers/settings.py, and the README's configuration table says the
same thing they do: each variable has a row, each row's "read by" names the functions that read
it, and a default in the code is the default in the table. Both sides are parsed, nothing listed
by hand here but how to spell resource-derived names."""
from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib import resources
from chalicelib import settings as chalice_settings
from crawlers import settings as crawler_settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILES = {"chalicelib": ROOT / "chalicelib" / "settings.py", "crawlers": ROOT / "crawlers" / "settings.py"}
READERS = {"_env", "_flag"}  # the only functions that touch os.environ for a named variable
PLACEHOLDER = re.compile(r"<[^>]*>")


@dataclass
class Read:
    functions: set[str] = field(default_factory=set)  # as the README spells them
    defaults: set[str] = field(default_factory=set)


def _names(arg: ast.expr) -> list[str]:
    """The variable name(s) an `_env(...)` first argument stands for."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.JoinedStr):  # f"NEWBOOKS_ALERT_{...}" -> NEWBOOKS_ALERT_<>
        return ["".join(v.value if isinstance(v, ast.Constant) else "<>" for v in arg.values)]
    source = ast.unparse(arg)
    if match := re.fullmatch(r"resources\.(\w+)\.env", source):
        return [getattr(resources, match.group(1)).env]
    derived = {
        "t.env": [t.env for t in resources.TABLES],
        "q.dead_letter_env": [q.dead_letter_env for q in resources.QUEUES],
        "name.upper()": ["<>"],  # a secret's variable: its upper-case name
    }
    assert source in derived, f"settings reads a variable named by `{source}`: teach this test how to spell it"
    return derived[source]


def _default(call: ast.Call) -> str | None:
    reader = call.func.id  # type: ignore[attr-defined]
    arg = call.args[1] if len(call.args) > 1 else None
    if reader == "_flag":
        return "true" if isinstance(arg, ast.Constant) and arg.value else "false"
    if isinstance(arg, ast.Constant) and arg.value:
        return str(arg.value)
    if isinstance(arg, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else f"<{ast.unparse(v.value)}>" for v in arg.values)
    return None


def code_reads() -> dict[str, Read]:
    out: dict[str, Read] = {}
    for package, path in SETTINGS_FILES.items():
        for fn in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(fn, ast.FunctionDef) or fn.name in READERS:
                continue
            spelled = fn.name if package == "chalicelib" else f"crawlers.settings.{fn.name}"
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in READERS:
                    for name in _names(node.args[0]):
                        read = out.setdefault(PLACEHOLDER.sub("<>", name), Read())
                        read.functions.add(spelled)
                        if (default := _default(node)) is not None:
                            read.defaults.add(default)
    return out


@dataclass
class Row:
    names: list[str]
    default: str
    read_by: list[str]


def _expand(token: str) -> list[str]:
    """`NOTIFY_{SLACK,X}_QUEUE_URL` -> both names; `<CHANNEL>` -> `<>`."""
    match = re.search(r"\{([^}]*)\}", token)
    if not match:
        return [PLACEHOLDER.sub("<>", token)]
    return [n for part in match.group(1).split(",") for n in _expand(token[:match.start()] + part + token[match.end():])]


def readme_rows() -> list[Row]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `") and not line.startswith("| <"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 4, f"README configuration row needs 4 cells (variable, default, meaning, read by): {line}"
        name_cell = cells[0].split(" (", 1)[0]  # "(e.g. `API_KEY`)" is an example, not a row of its own
        names = [n for token in re.findall(r"`([^`]+)`", name_cell) for n in _expand(token)]
        rows.append(Row(names, cells[1], re.findall(r"`([^`]+)`", cells[3]) or [cells[3]]))
    assert rows, "no configuration table found under ## Configuration in README.md"
    return rows


def _row_for(name: str, rows: list[Row]) -> Row | None:
    return next((r for r in rows if any(fnmatch.fnmatchcase(name, n) for n in r.names)), None)


def test_every_variable_the_code_reads_has_a_row_naming_its_readers_and_default():
    reads, rows = code_reads(), readme_rows()
    assert len(reads) > 30
    problems = []
    for name, read in sorted(reads.items()):
        row = _row_for(name, rows)
        if row is None:
            problems.append(f"{name}: read by {sorted(read.functions)} but not in the README table")
            continue
        if missing := read.functions - set(row.read_by):
            problems.append(f"{name}: read by {sorted(missing)}, which its README row's 'read by' does not name")
        problems += [f"{name}: default `{d}` not in its README row ({row.default})"
                     for d in sorted(read.defaults) if f"`{d}`" not in row.default]
    assert not problems, "\n".join(problems)


def test_every_row_read_by_settings_is_still_read_there():
    reads, rows = code_reads(), readme_rows()
    problems = []
    for row in rows:
        functions = [f for f in row.read_by if re.fullmatch(r"[a-z_]+|crawlers\.settings\.[a-z_]+", f)]
        for function in functions:  # the functions named exist
            module, attr = (crawler_settings, function.rsplit(".", 1)[1]) if "." in function else (chalice_settings, function)
            if not callable(getattr(module, attr, None)):
                problems.append(f"README names `{function}`, which {module.__name__} does not define")
        if not functions:
            assert row.read_by[0].startswith("devstack/") or row.read_by == ["boto3"], row
            continue
        for pattern in row.names:  # and each name really is read (a pattern: at least one name)
            matched = [n for n in reads if fnmatch.fnmatchcase(n, pattern)]
            if not matched:
                problems.append(f"README lists {pattern} as read by {functions}, but no settings function reads it")
    assert not problems, "\n".join(problems)


def test_nothing_else_reads_the_environment():
    """The settings files are the only readers; config files' ${NAME} go through settings.config_value."""
    pattern = re.compile(r"os\.environ|os\.getenv|getenv\(")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for folder in ("chalicelib", "crawlers") for path in sorted((ROOT / folder).rglob("*.py"))
                 if path not in SETTINGS_FILES.values()
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    app_lines = (ROOT / "app.py").read_text(encoding="utf-8").splitlines()
    offenders += [f"app.py:{n}" for n, line in enumerate(app_lines, 1) if pattern.search(line)]
    assert not offenders, f"read the variable through chalicelib/settings.py (or crawlers/settings.py): {offenders}"


def test_the_parsers_of_this_test_see_a_disagreement(tmp_path):
    """The check can fail: a variable dropped from the table, and a changed default, are found."""
    rows = readme_rows()
    without = [r for r in rows if "NEWBOOKS_LEDGER_STALE_S" not in r.names]
    assert _row_for("NEWBOOKS_LEDGER_STALE_S", rows) is not None and _row_for("NEWBOOKS_LEDGER_STALE_S", without) is None
    tree = ast.parse('def f():\n    return _env("NEWBOOKS_X", "9")\n')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert _names(call.args[0]) == ["NEWBOOKS_X"] and _default(call) == "9"
    assert _expand("NOTIFY_{SLACK,X}_QUEUE_URL") == ["NOTIFY_SLACK_QUEUE_URL", "NOTIFY_X_QUEUE_URL"]


def test_work_window_default_is_the_crawlers_one(monkeypatch):
    from crawlers.identity import DEFAULT_WINDOW_DAYS

    monkeypatch.delenv("NEWBOOKS_WORK_WINDOW_DAYS", raising=False)
    assert chalice_settings.work_window_days() == DEFAULT_WINDOW_DAYS
    monkeypatch.setenv("NEWBOOKS_WORK_WINDOW_DAYS", "3")
    assert chalice_settings.work_window_days() == 3
