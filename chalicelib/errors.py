"""Domain errors: what went wrong in terms of the domain, with the input field at fault.

Services raise these (uptime's InvalidTarget/TargetExists, notify's InvalidSubscription/
BadDestination, queries' BadQuery are subclasses); the edges decide what they look like: the API
maps the kind to an HTTP status in one table (chalicelib.api.errors.from_domain), Slack names the
modal input of `param`. Nobody reads the message to decide anything, so a message can be reworded
freely. Subclasses of ValueError, so callers that catch ValueError keep working.
Imports nothing: every layer may use it.
"""
from __future__ import annotations


class DomainError(ValueError):
    """`param` names the input field at fault (a request/config field such as "url" or "tz"),
    None when the problem is the input as a whole."""

    def __init__(self, param: str | None, message: str) -> None:
        super().__init__(message)
        self.param = param


class InvalidInput(DomainError):
    """The input cannot be used as given (HTTP 400)."""


class AlreadyExists(DomainError):
    """The thing to create exists already (HTTP 409)."""


class NotFound(DomainError):
    """The thing named does not exist (HTTP 404)."""
