"""The store's errors: the CLI and the UI turn these into clear messages.

Each error carries an English message (for the CLI and logs) and, where the UI shows it, a `code` and
parameters that the web app's message catalogue translates.
"""

from datetime import datetime
from typing import Any


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""

    def __init__(self, message: str = "", code: str = "", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class NotFound(StoreError):
    """No such case, user or layer."""


class Conflict(StoreError):
    """Someone else changed the record first (optimistic version check), or a unique key is taken."""


def changed_by(case_no: str, who: str, when: datetime) -> Conflict:
    """The one message a lost race gets, wherever it is detected."""
    return Conflict(
        f"case {case_no} was changed by {who} at {when:%Y-%m-%d %H:%M:%S}; reload it and try again",
        code="conflict.changed_by",
        case_no=case_no,
        who=who,
        when=when,
    )


class Invalid(StoreError, ValueError):
    """Input that cannot be stored as given; the message says what and where."""


class SchemaOutOfDate(StoreError):
    """The database schema is not the one this code expects."""


class Forbidden(StoreError):
    """The actor's role or district scope does not allow the action."""
