"""Domain errors. Each carries a machine-readable ``code``; the web layer maps codes to
translated messages, so the domain never speaks a human language."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a rule of the domain refused the operation."""

    code: str = "domain_error"

    def __init__(self, code: str | None = None, *, field: str | None = None, **params: object):
        self.code = code or self.code
        self.field = field
        self.params = params
        super().__init__(self.code)


class ValidationFailed(DomainError):
    """One or more inputs are invalid; ``errors`` maps field name to error code."""

    code = "invalid"

    def __init__(self, errors: dict[str, str]):
        super().__init__(self.code)
        self.errors = errors


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it exists."""

    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class RateLimited(DomainError):
    """Too many attempts of this kind from this client or for this address: try later."""

    code = "too_many_attempts"


class Busy(DomainError):
    """Too much of this kind of work is running in this process: try again shortly.
    Nothing was done; ``retry_after`` says in how many seconds a retry is sensible."""

    code = "busy"

    def __init__(self, what: str = "", *, retry_after: int = 30) -> None:
        super().__init__(self.code, what=what)
        self.retry_after = retry_after


class Unauthenticated(DomainError):
    """No valid credential: an API token unknown, revoked or expired."""

    code = "token_invalid"
