"""Domain exceptions of the twin; web/ maps each `code` to an HTTP status in one place."""

from __future__ import annotations

import errno


class TwinError(Exception):
    """Base of every error the twin raises on purpose; carries a stable code and a message for people."""

    code = "error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def to_dict(self) -> dict:
        """The JSON-able body shared by the CLI and the HTTP API."""
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(TwinError):
    """The caller sent something malformed or out of range."""

    code = "invalid_input"


class SchemaError(InvalidInput):
    """A data file does not match its layer's schema; names the file, row and column."""

    code = "schema_error"

    def __init__(self, message: str, *, file=None, row=None, column=None, **details):
        where = ", ".join(
            p
            for p in (
                f"file {file}" if file is not None else None,
                f"row {row}" if row is not None else None,
                f"column {column!r}" if column is not None else None,
            )
            if p
        )
        super().__init__(
            f"{where}: {message}" if where else message,
            file=str(file) if file is not None else None,
            row=row,
            column=column,
            **details,
        )
        self.file, self.row, self.column = file, row, column


class NotFound(TwinError):
    """The named thing does not exist."""

    code = "not_found"


class Conflict(TwinError):
    """The request is well-formed but not allowed in the current state (e.g. an illegal stage change)."""

    code = "conflict"


class Unauthorized(TwinError):
    """No valid credentials were given."""

    code = "unauthorized"


class Forbidden(TwinError):
    """The caller is known but may not do or see this."""

    code = "forbidden"


class StorageFull(TwinError):
    """A write failed because the disk (or the database's size limit) is full; reads still work."""

    code = "storage_full"


def storage_full(exc: BaseException) -> StorageFull | None:
    """The StorageFull that `exc` means (SQLite's SQLITE_FULL, or OSError ENOSPC/EDQUOT), else None."""
    if isinstance(exc, StorageFull):
        return exc
    full = getattr(exc, "sqlite_errorcode", None) == 13  # SQLITE_FULL: "database or disk is full"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        full = True
    if not full:
        return None
    return StorageFull(
        "storage is full: nothing was saved; reading still works. Free disk space on the server and send it again"
    )


class TooManyRequests(TwinError):
    """The caller sent more requests than its rate limit allows; `retry_after_s` says when to try again."""

    code = "too_many_requests"


class TooLarge(InvalidInput):
    """The input is larger than the service accepts."""

    code = "too_large"
