"""The ``rencontres`` command: serve, migrate, seed the demo, manage users."""

from __future__ import annotations

import os
import sys

import click

from events.database import Database
from events.demo import seed_demo, today_in_paris
from events.errors import ValidationFailed
from events.migrate import upgrade
from events.services.accounts import AccountService
from events.services.series import SeriesService
from web.settings import Settings


@click.group()
def main() -> None:
    """Rencontres: open meetups, run by volunteers."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default: $HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: $PORT or 8000).")
@click.option(
    "--workers", type=int, default=None, help="Worker processes (default: $WORKERS or 2)."
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str | None, port: int | None, workers: int | None, reload: bool) -> None:
    """Run the production server (uvicorn, several worker processes)."""
    import uvicorn

    settings = Settings.from_env()
    # Workers re-read the environment; make the chosen secret and data folder theirs too.
    os.environ.setdefault("SECRET_KEY", settings.secret_key)
    os.environ.setdefault("DATA_DIR", str(settings.data_dir))
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=None if reload else (workers or settings.workers),
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        access_log=settings.debug,
        log_level="info",
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    settings = Settings.from_env()
    upgrade(settings.database_url, revision)
    click.echo("database is up to date")


@main.command()
@click.option(
    "--password",
    envvar="DEMO_PASSWORD",
    default=None,
    help="Password of demo@example.org (default: $DEMO_PASSWORD or a random one).",
)
def demo(password: str | None) -> None:
    """Seed the demo community on an empty database, and print how to log in."""
    settings = Settings.from_env()
    database = Database.from_url(settings.database_url)
    password_file = settings.data_dir / "demo_password"
    with database.transaction() as session:
        result = seed_demo(session, today=today_in_paris(), password=password)
    if result.created and result.password:
        password_file.write_text(result.password)
        password_file.chmod(0o600)
    shown = password or (password_file.read_text().strip() if password_file.exists() else None)
    click.echo("")
    click.echo(f"  Demo organiser: {result.email}")
    click.echo(f"  Password:       {shown or '(set when the demo was first created)'}")
    click.echo(f"  Open:           {settings.base_url}/login")
    click.echo("")
    database.dispose()


@main.group()
def series() -> None:
    """Recurring series."""


@series.command("extend")
def series_extend() -> None:
    """Create occurrences up to the rolling horizon (run daily, e.g. from cron)."""
    settings = Settings.from_env()
    database = Database.from_url(settings.database_url)
    with database.transaction() as session:
        created = SeriesService(session).extend_all(today_in_paris())
    click.echo(f"{created} occurrence(s) created")
    database.dispose()


@main.group()
def user() -> None:
    """Organiser accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_create(email: str, name: str, password: str) -> None:
    """Create an organiser account."""
    settings = Settings.from_env()
    database = Database.from_url(settings.database_url)
    try:
        with database.transaction() as session:
            created = AccountService(session).sign_up(
                email=email, display_name=name, password=password
            )
            click.echo(f"created {created.email}")
    except ValidationFailed as failed:
        for field, code in failed.errors.items():
            click.echo(f"{field}: {code}", err=True)
        sys.exit(2)
    finally:
        database.dispose()


if __name__ == "__main__":
    main()
