"""The errors judgekit raises, in one place.

Why a hierarchy: the CLI turns a :class:`UserError` (a mistake the user can fix) into one readable line and exit
code 2, a :class:`CheckFailed` into exit code 1, and lets anything else surface as a bug. Messages say what was
expected and, where possible, how to fix it.
"""

from __future__ import annotations

from pathlib import Path


class JudgekitError(Exception):
    """Base class of every error judgekit raises on purpose."""


class UserError(JudgekitError):
    """A mistake in the user's input, configuration or command line (exit code 2)."""


class InputError(UserError):
    """A malformed record in an input file, located by file, line and field.

    ``line`` is 1-based (for CSV it counts the header as line 1, as an editor shows it).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        elif line is not None:
            where = f"line {line}: "
        field_part = f"field '{field}': " if field else ""
        super().__init__(f"{where}{field_part}{message}")


class ItemConflict(UserError):
    """An item id already stored with different content (items are immutable); ``item_id`` names it, so an
    importer can say on which line of its file the changed item is."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        super().__init__(
            f"item {item_id!r} already exists with different content; items are immutable: give the changed item a "
            "new id"
        )


class ConfigError(UserError):
    """An invalid configuration file or option (rubric, judge config, thresholds)."""


class MissingKeyError(UserError):
    """A provider needs an API key that is not set; the message names the environment variable."""

    def __init__(self, env_var: str, provider: str) -> None:
        self.env_var = env_var
        super().__init__(
            f"{provider} needs an API key: set the environment variable {env_var} "
            f"(or pass api_key in the judge config)."
        )


class MissingCredentialsError(MissingKeyError):
    """A cloud provider found no usable credentials; the message says what to set (several variables can do)."""

    def __init__(self, provider: str, what_to_set: str, *, env_var: str) -> None:
        self.env_var = env_var
        UserError.__init__(self, f"{provider} needs credentials: {what_to_set}.")


class ProviderError(JudgekitError):
    """A provider call failed after its retries; carries the HTTP status code and body where known."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str | None = None) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(message if status_code is None else f"{message} (HTTP {status_code})")


class CheckFailed(JudgekitError):
    """A trust check did not pass (exit code 1)."""


class StorageError(JudgekitError):
    """The project database is unusable (wrong file, newer schema than this judgekit knows)."""


class NotAProjectError(StorageError):
    """``--db`` names a database that is not a judgekit project (another application's); it is left untouched."""


class DatabaseBusyError(StorageError):
    """A writer waited ``waited_s`` seconds for another writer to finish and gave up; nothing was written.

    The labeling app catches it, keeps the annotator's pending label and retries it; the CLI prints the message.
    """

    def __init__(self, message: str, *, waited_s: float = 0.0) -> None:
        self.waited_s = waited_s
        super().__init__(message)


class DiskFullError(StorageError):
    """The disk holding the project database is full; nothing of the failed write was kept."""


class ReadOnlyProjectError(StorageError):
    """The project database can be read but not written (file or folder permissions, read-only credentials)."""


class ConstraintViolation(StorageError):
    """The database refused a write that breaks one of its rules (append-only labels, unique keys, references)."""


class JudgekitDeprecationWarning(DeprecationWarning):
    """Raised as an error in judgekit's own tests so deprecated paths are not used by accident."""
