"""Per-stage IAM policy files from one hand-written source.

Chalice takes one `iam_policy_file` per function per stage, and a policy must name only its own
stage's resources (a `newbooks-*` pattern lets dev functions read prod secrets and write prod
tables when both stages share an account). So each function's policy is written once, by hand,
in `.chalice/policies/<function>.json` with `<stage>` where the stage name goes, and rendered to
`.chalice/policies/<stage>/<function>.json` for every stage in `.chalice/config.json`, which
points each stage's functions at their rendered files.

    python -m infra.render_policies            # (re)write the rendered files
    python -m infra.render_policies --check    # exit 1 and list stale files (CI)

`tests/unit/test_least_privilege.py` fails when a rendered file is stale, and
`infra/iam_check.py` checks the rendered files' resources against the template's names.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "<stage>"


def sources(root: Path = ROOT) -> dict[str, Path]:
    """Function name -> its hand-written source policy."""
    return {p.stem: p for p in sorted((root / ".chalice" / "policies").glob("*.json"))}


def stages(root: Path = ROOT) -> list[str]:
    return list(json.loads((root / ".chalice" / "config.json").read_text())["stages"])


def render(source_text: str, stage: str) -> str:
    if not stage.replace("-", "").isalnum():
        raise ValueError(f"stage {stage!r}: letters, digits and '-' only (it goes into ARNs)")
    json.loads(source_text)  # a broken source fails here, naming nothing rendered
    return source_text.replace(PLACEHOLDER, stage).rstrip("\n") + "\n"


def rendered(root: Path = ROOT) -> dict[Path, str]:
    """Every rendered file's path -> the text it must have."""
    return {
        root / ".chalice" / "policies" / stage / f"{name}.json": render(path.read_text(), stage)
        for stage in stages(root)
        for name, path in sources(root).items()
    }


def stale(root: Path = ROOT) -> list[Path]:
    """Rendered files that are missing or differ from their source, and orphans in stage dirs."""
    wanted = rendered(root)
    out = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    for stage in stages(root):
        out += [p for p in sorted((root / ".chalice" / "policies" / stage).glob("*.json")) if p not in wanted]
    return out


def write(root: Path = ROOT) -> list[Path]:
    changed = []
    for path, text in rendered(root).items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        found = stale()
        for path in found:
            print(f"stale: {path.relative_to(ROOT)} (run python -m infra.render_policies)")
        return 1 if found else 0
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
