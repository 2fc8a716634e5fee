"""The library's error types, told in one Vietnamese line each (no internal imports).

Every module may raise these; the CLI and the pages show the message as it is.
"""

from __future__ import annotations


class StoreError(RuntimeError):
    """A database problem told in one Vietnamese line, with the way out."""


class StoreMissing(StoreError):
    """The database file does not exist (run ``danvan init``)."""


class StoreLocked(StoreError):
    """Another program (usually the dashboard) holds the database file."""


class Refused(StoreError):
    """A write refused by a check before anything was written (logged as ``denied:<action>``)."""


class StateRefused(Refused):
    """The period's state (lifecycle) does not allow the write; nothing was written.

    The message names the state and the way out, in one Vietnamese line."""
