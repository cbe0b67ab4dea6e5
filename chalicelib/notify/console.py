"""Console sender: the local stack with no credentials prints one readable line per
notification to stdout (lines come from `render.console_line`)."""
from __future__ import annotations

import sys
from typing import TextIO


class ConsoleSender:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def post(self, line: str) -> str:
        stream = self.stream or sys.stdout
        stream.write(line.rstrip("\n") + "\n")
        stream.flush()
        return "printed"
