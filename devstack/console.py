"""What the local stack prints, and where its logs go (issue 16, point 6).

The console gets one line per meaningful event: a crawl that found something or failed, an alert,
a delivery (the notifiers print those themselves), and warnings/errors as one readable line.
Every INFO record of every process of the stack goes, as the JSON line chalicelib.log writes, to
`<data dir>/logs/newbooks.jsonl` (appends from many processes: one write per line). botocore's
and werkzeug's chatter stays out of both.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOG_FILE_ENV = "NEWBOOKS_LOG_FILE"
# Records the console turns into one line of their own, by message.
_CRAWL = {"source crawled", "source fetch failed", "parse failed"}
# Libraries whose INFO lines ("Found credentials in environment variables", access logs) are noise.
_QUIET = ("botocore", "boto3", "urllib3", "werkzeug", "s3transfer")


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / "newbooks.jsonl"


def crawl_line(record: logging.LogRecord) -> str | None:
    """The console line for a crawl result, or None when it says nothing new (unchanged, 0 new).
    Pure on the record's fields."""
    fields = vars(record)
    source = fields.get("source", "?")
    message = record.getMessage()
    if message == "source crawled":
        if not fields.get("new") and fields.get("status") == "ok":
            return None
        return f"[newbooks] crawl {source}: {fields.get('new', 0)} new of {fields.get('items', 0)} ({fields.get('status')})"
    if message == "source fetch failed":
        return f"[newbooks] crawl {source}: fetch failed ({fields.get('kind')}), status {fields.get('status')}"
    if message == "parse failed":
        return f"[newbooks] crawl {source}: parse failed: {fields.get('error')}"
    return None


class ConsoleHandler(logging.Handler):
    """Crawl results at any level, and other records at or above `level`, as one plain line."""

    def __init__(self, level: int, stream=None):
        super().__init__(logging.DEBUG)
        self.console_level, self.stream = level, stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from chalicelib.log import redact

            if record.getMessage() in _CRAWL:
                line = crawl_line(record)
            elif record.levelno >= self.console_level:
                line = f"[newbooks] {record.levelname.lower()}: {record.getMessage()}"
                function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
                if function:
                    line += f" ({function})"
            else:
                line = None
            if line:
                stream = self.stream or sys.stdout
                stream.write(redact(line.replace("\n", " ")) + "\n")
                stream.flush()
        except Exception:  # logging never takes a handler down
            self.handleError(record)


def configure(data_dir: Path | None = None) -> Path | None:
    """Route this process's logs: JSON INFO lines to the stack's log file, plain lines to the
    console (level NEWBOOKS_LOG_LEVEL, default WARNING). Call after chalicelib.log is imported."""
    from chalicelib.log import JsonFormatter, get_logger

    get_logger("devstack")  # chalicelib.log's own set-up first, then replace its handlers
    root = logging.getLogger("newbooks")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.INFO)
    root.addHandler(ConsoleHandler(logging.getLevelName(os.environ.get("NEWBOOKS_LOG_LEVEL", "WARNING").upper())))
    target = log_path(data_dir) if data_dir else (Path(os.environ[LOG_FILE_ENV]) if os.environ.get(LOG_FILE_ENV) else None)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(target, encoding="utf-8")
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(JsonFormatter())
        root.addHandler(file_handler)
    quiet_libraries(root.handlers[-1] if target is not None else None)
    return target


def quiet_libraries(file_handler: logging.Handler | None = None) -> None:
    """Library loggers warn into the log file only: a moto request cut short by a stopping poller
    (werkzeug's "Error on request" traceback) is no event for the console."""
    for name in _QUIET:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        # a handler of its own also stops werkzeug from adding a stderr one
        logger.addHandler(file_handler or logging.NullHandler())
        logger.propagate = False
