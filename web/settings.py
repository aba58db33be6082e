"""Configuration from environment variables (every one is documented in the README)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

_TRUE = {"1", "true", "yes", "on"}


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    return default if value is None or value == "" else value.strip().lower() in _TRUE


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default); anything else stops the start-up."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _load_or_create_secret(data_dir: Path) -> str:
    """A per-installation secret, created once with 0600 permissions, never a default."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    username: str = ""
    password: str = ""
    security: str = "starttls"  # starttls | tls | none
    sender: str = "Rencontres <noreply@localhost>"
    #: SMTP connections a sender keeps open at once (``SMTP_CONNECTIONS``, 1 to 16).
    connections: int = 4

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    base_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    signup_open: bool = True
    workers: int = 2
    login_rate_limit: int = 10  # attempts per minute and client address
    #: Registrations are anonymised this many days after their event ended.
    anonymise_after_days: int = 90
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    #: ``inline``: each server process runs the mail sender and the periodic jobs in a
    #: background thread; ``off``: ``rencontres worker`` does. ``from_env`` defaults to
    #: ``inline``; Settings built in code (tests) default to ``off``: no stray threads.
    mail_worker: str = "off"
    #: Hours before an event its reminder is mailed (0: no reminders).
    reminder_hours: float = 24.0
    #: Calendar imports may fetch private, loopback and link-local addresses (an intranet
    #: calendar; tests). Off: only public addresses, so imports cannot probe the network.
    import_allow_private: bool = False
    #: Minutes between two fetches of one subscribed calendar.
    import_refresh_minutes: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("DATA_DIR") or "data").resolve()
        host = env.get("HOST") or "127.0.0.1"
        port = int(env.get("PORT") or 8000)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'rencontres.db'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=env.get("SECRET_KEY") or _load_or_create_secret(data_dir),
            base_url=(env.get("BASE_URL") or f"http://{host}:{port}").rstrip("/"),
            host=host,
            port=port,
            debug=_flag(env, "DEBUG", False),
            signup_open=_flag(env, "SIGNUP_OPEN", True),
            workers=int(env.get("WORKERS") or 2),
            login_rate_limit=int(env.get("LOGIN_RATE_LIMIT") or 10),
            anonymise_after_days=max(int(env.get("ANONYMISE_AFTER_DAYS") or 90), 0),
            smtp=SmtpSettings(
                host=env.get("SMTP_HOST", ""),
                port=int(env.get("SMTP_PORT") or 587),
                username=env.get("SMTP_USERNAME", ""),
                password=env.get("SMTP_PASSWORD", ""),
                security=env.get("SMTP_SECURITY") or "starttls",
                sender=env.get("MAIL_FROM") or "Rencontres <noreply@localhost>",
                connections=min(max(int(env.get("SMTP_CONNECTIONS") or 4), 1), 16),
            ),
            mail_worker=_choice(env, "MAIL_WORKER", ("inline", "off")),
            reminder_hours=max(float(env.get("MAIL_REMINDER_HOURS") or 24), 0.0),
            import_allow_private=_flag(env, "IMPORT_ALLOW_PRIVATE", False),
            import_refresh_minutes=max(int(env.get("IMPORT_REFRESH_MINUTES") or 60), 5),
        )

    @cached_property
    def https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @cached_property
    def allowed_hosts(self) -> list[str]:
        """Host names requests may carry: the public one, plus loopback for health checks."""
        public = urlsplit(self.base_url).hostname or "localhost"
        return sorted({public, "127.0.0.1", "localhost", "[::1]"})

    def absolute_url(self, path: str) -> str:
        return f"{self.base_url}{path}"
