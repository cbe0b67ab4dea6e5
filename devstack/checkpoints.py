"""Stream positions of the local event source mappings, kept in the data dir so a restarted
runner resumes after the last completed batch instead of losing or replaying the stream."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class Checkpoints:
    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        self.data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, arn: str, shard: str) -> str | None:
        with self.lock:
            return self.data.get(f"{arn}|{shard}")

    def set(self, arn: str, shard: str, sequence: str) -> None:
        with self.lock:
            self.data[f"{arn}|{shard}"] = sequence
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data))
            os.replace(tmp, self.path)
