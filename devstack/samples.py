"""The one way to find the shared real sample payloads (`../shared/samples` or `$NEWBOOKS_SAMPLES`).

Tests call `sample_path()` / `require_samples()`; both skip with a clear message when the folder
is absent, so a checkout without `shared/` still runs the rest of the suite.
"""
from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def samples_dir() -> Path | None:
    """Return the samples folder, or None when it is not present on this machine."""
    env = os.environ.get("NEWBOOKS_SAMPLES")
    candidates = [Path(env)] if env else []
    candidates.append(_REPO.parent / "shared" / "samples")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def sample_path(*parts: str) -> Path:
    """Path of one sample file; skips the calling test when samples (or that file) are missing."""
    base = samples_dir()
    if base is None:
        _skip("shared samples folder not found: set NEWBOOKS_SAMPLES or place shared/ beside the repo")
    path = base.joinpath(*parts)
    if not path.exists():
        _skip(f"sample {'/'.join(parts)} not found under {base}")
    return path


def read_sample(*parts: str) -> bytes:
    return sample_path(*parts).read_bytes()


def _skip(reason: str) -> None:
    import pytest  # only tests reach this branch

    pytest.skip(reason)
