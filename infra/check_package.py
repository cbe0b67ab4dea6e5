"""Check the built deployment.zip the way Lambda will load it: unzip into a temporary folder and
import `app` and `crawlers` with a fresh interpreter that has no site-packages (so neither the
dev venv nor boto3 can satisfy an import the package itself does not carry)."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MAX_ZIP_BYTES = 2 * 1024 * 1024

PROBE = """
import importlib.util, json, sys
import app, crawlers
print(json.dumps({"app": app.app.app_name, "crawlers": crawlers.__name__,
                  "boto3_present": importlib.util.find_spec("boto3") is not None}))
"""


def check(zip_path: Path) -> dict:
    size = zip_path.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tmp)
        # -S: no site module, -E: ignore PYTHON* variables; the package folder is the only path.
        out = subprocess.run(
            [sys.executable, "-S", "-E", "-c", f"import sys; sys.path.insert(0, {tmp!r}); " + PROBE],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        raise SystemExit(f"package import failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["zip_bytes"] = size
    result["zip_ok"] = size <= MAX_ZIP_BYTES
    return result


if __name__ == "__main__":
    print(json.dumps(check(Path(sys.argv[1] if len(sys.argv) > 1 else "build/deployment.zip"))))
