"""Errors raised by the crawlers package."""
from __future__ import annotations


class ParseError(ValueError):
    """The body is not the shape this parser expects (a changed page must be detected, not read as [])."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
