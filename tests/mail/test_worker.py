"""The loop that sends: in the server process (MAIL_WORKER=inline), or ``rencontres worker``."""

from __future__ import annotations

import smtplib
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from events.clock import utcnow
from events.database import Database
from events.jobs.periodic import JobSettings, periodic_jobs
from events.jobs.runner import PeriodicJob
from events.jobs.worker import THREAD_NAME, BackgroundWorker
from events.mail.sender import SmtpConfig, connect_smtp
from events.models import Event, OutboxStatus, RegistrationStatus
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.mail.conftest import SENDER, SmtpServer
from tests.mail.scenario import MAIL, open_event, outbox, person, register
from web.app import create_app
from web.cli import main
from web.settings import Settings, SmtpSettings


def _mail_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def test_settings_default_to_the_inline_worker_and_tests_to_none(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "SECRET_KEY": "k" * 40}
    settings = Settings.from_env(env)
    assert settings.mail_worker == "inline" and settings.reminder_hours == 24
    tuned = Settings.from_env({**env, "MAIL_WORKER": "OFF", "MAIL_REMINDER_HOURS": "2.5"})
    assert tuned.mail_worker == "off" and tuned.reminder_hours == 2.5
    with pytest.raises(ValueError, match="MAIL_WORKER"):
        Settings.from_env({**env, "MAIL_WORKER": "cron"})
    assert Settings(tmp_path, "sqlite://", "k", BASE_URL).mail_worker == "off"
    assert settings.smtp.connections == 4
    assert Settings.from_env({**env, "SMTP_CONNECTIONS": "99"}).smtp.connections == 16
    assert Settings.from_env({**env, "SMTP_CONNECTIONS": "0"}).smtp.connections == 1


def test_one_tick_runs_the_jobs_then_sends(
    db: Database, make: Factories, smtp_server: SmtpServer
) -> None:
    event = open_event(db, make, confirm_email_first=True)
    unconfirmed = register(db, event, person(1))
    confirmed_event = open_event(db, make, starts="2030-04-01T19:00", ends="2030-04-01T21:00")
    register(db, confirmed_event, person(2))
    with db.session() as session:
        starts = session.get(Event, confirmed_event.id).starts_at  # type: ignore[union-attr]
    worker = BackgroundWorker(
        db, mail=MAIL, smtp=smtp_server.config, jobs=periodic_jobs(db, JobSettings())
    )

    worker.tick(starts - timedelta(hours=3))

    subjects = sorted(m["Subject"] for m in smtp_server.inbox.messages)
    assert subjects == [
        "Confirm your registration for Flat-share meetup",
        "Reminder: Flat-share meetup",
        "Your place at Flat-share meetup",
    ]
    with db.session() as session:
        from events.models import Registration

        hold = session.get(Registration, unconfirmed.registration.id)
        assert hold is not None and hold.status is RegistrationStatus.CANCELLED  # expired
    worker.tick(starts - timedelta(hours=2))  # nothing new: reminders are queued once
    assert len(smtp_server.inbox.messages) == 3


def test_without_smtp_mails_stay_in_the_outbox(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    register(db, event, person(1))
    worker = BackgroundWorker(db, mail=MAIL, smtp=None)
    assert worker.sender is None
    worker.tick()
    [mail] = outbox(db)
    assert mail.status is OutboxStatus.PENDING and mail.attempts == 0


def test_the_server_sends_in_the_background_soon_after_a_commit(
    settings: Settings, db: Database, make: Factories, smtp_server: SmtpServer
) -> None:
    event = open_event(db, make)
    inline = replace(
        settings,
        mail_worker="inline",
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none", sender=SENDER),
    )
    app = create_app(inline, db)
    # It renders between the writes of its process (events/write_activity.py).
    assert app.state.mail_worker.step_aside == app.state.write_gate.activity.step_aside
    with TestClient(app=app, base_url=BASE_URL):
        assert len(_mail_threads()) == 1
        register(db, event, person(1))
        deadline = time.monotonic() + 4  # well under the 5 s poll: the commit woke it
        while not smtp_server.inbox.envelopes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp_server.inbox.envelopes) == 1
    assert _mail_threads() == []  # stopped with the app
    assert outbox(db)[0].status is OutboxStatus.SENT


def test_tests_and_mail_worker_off_start_no_thread(settings: Settings, db: Database) -> None:
    with TestClient(app=create_app(settings, db), base_url=BASE_URL):
        assert _mail_threads() == []


def test_the_worker_command_sends_once(
    database_url: str, db: Database, make: Factories, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    event = open_event(db, make)
    register(db, event, person(1))
    env = {
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "k" * 40,
        "BASE_URL": BASE_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": SENDER,
    }
    result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert len(smtp_server.inbox.envelopes) == 1
    assert outbox(db)[0].sent_at is not None
    assert outbox(db)[0].sent_at <= utcnow()  # type: ignore[operator]


def test_a_broken_sender_address_or_security_setting_fails_safe(smtp_server: SmtpServer) -> None:
    with pytest.raises(ValueError, match="not one e-mail address"):
        SmtpConfig(host="127.0.0.1", sender="Rencontres")
    # A misspelt SMTP_SECURITY means STARTTLS (refused by this test server), never clear text.
    typo = replace(smtp_server.config, security="startls")
    with pytest.raises(smtplib.SMTPNotSupportedError):
        connect_smtp(typo)


def test_periodic_jobs_run_each_round_and_one_failing_stops_none(db: Database) -> None:
    seen: list[object] = []

    def broken(_now: object) -> int:
        raise RuntimeError("boom")

    def working(now: object) -> int:
        seen.append(now)
        return 1

    jobs = [PeriodicJob("broken", broken), PeriodicJob("working", working)]
    worker = BackgroundWorker(db, mail=MAIL, smtp=None, jobs=jobs)
    now = utcnow()
    assert worker.run_jobs(now) == {"working": 1}
    assert seen == [now]


def test_the_servers_worker_anonymises_extends_series_and_refreshes_imports(
    settings: Settings, db: Database, make: Factories, caplog: pytest.LogCaptureFixture
) -> None:
    from events.services.series import SeriesInput, SeriesService
    from web.mail import background_worker

    community = make.community()
    with db.transaction() as session:
        series = SeriesService(session).create(
            community, SeriesInput(title="Thursdays", starts_on="2026-01-01"), today=utcnow().date()
        )
        before = len(SeriesService(session).occurrences(series))
    worker = background_worker(replace(settings, anonymise_after_days=0), db)
    assert [job.name for job in worker.jobs] == [
        "expire_holds",
        "reminders",
        "shift_reminders",
        "feedback_mails",
        "purge_outbox",
        "purge_attempts",
        "anonymise",
        "anonymise_proposals",
        "expire_listings",
        "extend_series",
        "refresh_imports",
        "deliver_webhooks",
    ]
    worker.run_jobs(utcnow() + timedelta(days=60))  # two months on: the horizon moved
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == []
    with db.session() as session:
        assert len(SeriesService(session).occurrences(series)) > before
