"""The ``rencontres`` command: serve, migrate, seed the demo, manage users."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from events.clock import utcnow
from events.database import Database
from events.demo import seed_demo, today_in_paris
from events.errors import ValidationFailed
from events.jobs.lease import JobBusy, exclusively
from events.jobs.periodic import ANONYMISE, EXPIRE_HOLDS, EXTEND_SERIES, REFRESH_IMPORTS, REMINDERS
from events.migrate import upgrade
from events.services.accounts import AccountService
from events.services.privacy import anonymise_past_registrations
from events.services.proposal_privacy import anonymise_past, forget_unconfirmed
from events.services.series import SeriesService
from web.imports import wait_for_imports
from web.mail import background_worker
from web.settings import Settings, make_data_dir


def _settings() -> Settings:
    """The environment's settings, with DATA_DIR made first (mode 0700) when the database
    is a SQLite file in it: SQLite would create the folder readable by everyone."""
    settings = Settings.from_env()
    if settings.database_in_data_dir:
        make_data_dir(settings.data_dir)
    return settings


@contextmanager
def _alone(database: Database, job: str) -> Iterator[None]:
    """Run what a periodic job does under that job's lease (events/jobs/lease.py): never
    at the same time as the background workers' run of it; exit 1 while one is running."""
    try:
        with exclusively(database, job):
            yield
    except JobBusy:
        click.echo(f"the {job} job is running elsewhere right now; try again later", err=True)
        sys.exit(1)


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
    """Run the production server (uvicorn workers under gunicorn's arbiter, web/serving.py)."""
    settings = _settings()
    # The app is built from the environment (web/serving.py): the secret and the data
    # folder chosen here must be the ones it reads.
    os.environ.setdefault("SECRET_KEY", settings.secret_key)
    os.environ.setdefault("DATA_DIR", str(settings.data_dir))
    forwarded = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    if reload:  # development: one process that restarts on code changes
        import uvicorn

        uvicorn.run(
            "web.serving:create_serving_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            reload=True,
            proxy_headers=True,
            forwarded_allow_ips=forwarded,
            log_level="info",
        )
        return
    from web.serving import serve as serve_forever

    serve_forever(
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        forwarded_allow_ips=forwarded,
        access_log=settings.debug,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    settings = _settings()
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
    settings = _settings()
    database = Database.from_url(settings.database_url)
    password_file = settings.data_dir / "demo_password"
    try:
        with database.transaction() as session:
            result = seed_demo(session, today=today_in_paris(), password=password)
    except ValidationFailed as failed:  # a DEMO_PASSWORD the password rule refuses
        for field, code in failed.errors.items():
            click.echo(f"{field}: {code}", err=True)
        database.dispose()
        sys.exit(2)
    if result.created and result.password:
        make_data_dir(settings.data_dir)  # DATABASE_URL may point elsewhere: nothing made it
        password_file.write_text(result.password)
        password_file.chmod(0o600)
    shown = password or (password_file.read_text().strip() if password_file.exists() else None)
    click.echo("")
    click.echo(f"  Demo organiser: {result.email}")
    click.echo(f"  Password:       {shown or '(set when the demo was first created)'}")
    click.echo(f"  Open:           {settings.base_url}/login")
    if result.api_token:  # shown once, like any token (only its hash is kept)
        click.echo(f"  API token:      {result.api_token}  (events:read, shown once)")
        click.echo(
            f"  Try:            curl -H 'Authorization: Bearer {result.api_token}' "
            f"{settings.base_url}/api/v1/manage/{result.community}/events"
        )
    click.echo("")
    database.dispose()


@main.group()
def series() -> None:
    """Recurring series."""


@series.command("extend")
def series_extend() -> None:
    """Create occurrences up to the rolling horizon (run daily, e.g. from cron)."""
    settings = _settings()
    database = Database.from_url(settings.database_url)
    try:
        with _alone(database, EXTEND_SERIES), database.transaction() as session:
            created = SeriesService(session).extend_all(today_in_paris())
        click.echo(f"{created} occurrence(s) created")
    finally:
        database.dispose()


@main.command()
@click.option("--once", is_flag=True, help="Do one round (jobs, then send) and exit.")
@click.option(
    "--interval", type=click.FloatRange(min=0.5), default=5.0, help="Seconds between rounds."
)
def worker(once: bool, interval: float) -> None:
    """Send the e-mail outbox and run the periodic jobs (holds, reminders).

    For deployments that set MAIL_WORKER=off on the web processes; stops cleanly on
    SIGTERM or Ctrl-C. Several workers may run at once.
    """
    settings = _settings()
    database = Database.from_url(settings.database_url)
    loop = background_worker(settings, database)
    loop.interval = interval
    if loop.sender is None:
        click.echo("SMTP_HOST is not set: mails stay in the outbox (jobs still run)", err=True)
    try:
        if once:
            done = loop.run_jobs()
            loop.prepare()
            report = loop.send()
            wait_for_imports()  # the calendar fetches the round started run in threads
            click.echo(
                f"{report.sent} sent, {report.retried} to retry, {report.failed} failed; "
                f"{done.get(REMINDERS, 0)} reminder(s) queued, "
                f"{done.get(EXPIRE_HOLDS, 0)} hold(s) expired"
            )
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: loop.stop(timeout=0))
        click.echo(f"mail worker running (every {interval:g} s); SIGTERM or Ctrl-C stops it")
        loop.run()
        click.echo("mail worker stopped")
    finally:
        database.dispose()


@main.group("import")
def import_group() -> None:
    """Calendars imported from other sites."""


@import_group.command("refresh")
@click.option("--all", "force", is_flag=True, help="Fetch every subscription, due or not.")
def import_refresh(force: bool) -> None:
    """Fetch the subscribed calendars that are due and mirror their events."""
    from events.services.calendar_refresh import describe
    from web.imports import refresh_imports_and_wait

    settings = _settings()
    database = Database.from_url(settings.database_url)
    try:
        with _alone(database, REFRESH_IMPORTS):
            outcomes = refresh_imports_and_wait(settings, database, force=force)
        for line in describe(outcomes):
            click.echo(line)
        click.echo(f"{len(outcomes)} calendar(s) fetched")
    finally:
        database.dispose()


@main.group()
def privacy() -> None:
    """Personal data retention."""


@privacy.command("anonymise")
@click.option(
    "--after-days",
    type=click.IntRange(min=0),
    default=None,
    help="Days after an event's end (default: $ANONYMISE_AFTER_DAYS or 90).",
)
def privacy_anonymise(after_days: int | None) -> None:
    """Anonymise the registrations of past events, keeping only the counts (run daily)."""
    settings = _settings()
    days = settings.anonymise_after_days if after_days is None else after_days
    database = Database.from_url(settings.database_url)
    try:
        with _alone(database, ANONYMISE), database.transaction() as session:
            done = anonymise_past_registrations(session, now=utcnow(), after_days=days)
            forget_unconfirmed(session, now=utcnow())
            people = anonymise_past(session, now=utcnow(), after_days=days)
        click.echo(f"{done} registration(s) anonymised (events ended {days}+ days ago)")
        click.echo(f"{people} proposer(s) anonymised (calls closed {days}+ days ago)")
    finally:
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
    settings = _settings()
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
