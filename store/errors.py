"""The store's errors: the CLI and the UI turn these into clear messages."""

from datetime import datetime


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFound(StoreError):
    """No such case, user or layer."""


class Conflict(StoreError):
    """Someone else changed the record first (optimistic version check), or a unique key is taken."""


def changed_by(case_no: str, who: str, when: datetime) -> Conflict:
    """The one message a lost race gets, wherever it is detected."""
    return Conflict(f"case {case_no} was changed by {who} at {when:%Y-%m-%d %H:%M:%S}; reload it and try again")


class Invalid(StoreError, ValueError):
    """Input that cannot be stored as given; the message says what and where."""


class SchemaOutOfDate(StoreError):
    """The database schema is not the one this code expects."""


class Forbidden(StoreError):
    """The actor's role or district scope does not allow the action."""
