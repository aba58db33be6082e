"""Send the outbox over SMTP: claim due rows, send, record the result; retry with backoff.

Claiming. A sender takes a batch of due rows (``pending``, ``next_attempt_at <= now``, no
live claim) with one conditional ``UPDATE ... SET claimed_until = :until WHERE ... AND
(claimed_until IS NULL OR claimed_until < :now)``: two senders (two server processes, or a
server and ``rencontres worker``) can never both claim a row, on SQLite or PostgreSQL. The
claim expires, so a sender that dies mid-batch only delays its rows. Every result is
written with ``WHERE claimed_until = <our claim>``, so a sender whose claim was taken over
changes nothing. No database transaction is held while talking to the SMTP server.

Delivery is at least once: if the process dies after the SMTP server accepted a message
and before the ``sent`` commit, the row is sent again once its claim expires (with the
same Message-ID, so the copies are recognisably one message). Otherwise exactly once.

Order and parallelism. Claims take every other mail before the bulk ones (reminders,
event changes and cancellations to many: :data:`events.mail.notify.BULK_KINDS`), then the
oldest first; a batch is a few mails per connection and is sent over ``connections`` SMTP
connections at once (each thread its own connection, taking the batch's mails in order).
So a confirmation queued behind 1,200 reminders waits for the batch being sent, not for
the reminders.

Failures. A refusal the server calls permanent (5xx for the recipient or the content) or
a message that cannot be encoded marks the row ``failed`` at once. Anything else
(connection refused, timeouts, 4xx, authentication) is retried after
``30 s × 2^(attempts-1)``, capped at one hour, until ``MAX_ATTEMPTS`` (about 3 h 40 of
trying), then the row is ``failed``. Failed rows stay in the outbox with their last error;
organisers can send them again from the outbox page.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from events.clock import utcnow
from events.database import Database
from events.mail.message import Mail, build_message, sender_address
from events.mail.outbox import TRANSACTIONAL_FIRST, claim_rows
from events.models import OutboxMessage, OutboxStatus

log = logging.getLogger("rencontres.mail")

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
#: How long a claim keeps other senders off a row (longer than a batch can take).
CLAIM_FOR = timedelta(minutes=10)
#: Mails claimed at once per SMTP connection: small, so that a mail queued while a backlog
#: is being sent waits for one batch at most (claims take it first: see the module doc).
BATCH_PER_CONNECTION = 5
ERROR_MAX_LENGTH = 2000


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min... max 1 h."""
    delay: timedelta = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)
    return delay


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    #: ``starttls`` (upgrade a plain connection), ``tls`` (implicit TLS, port 465) or
    #: ``none`` (a local relay).
    security: str = "starttls"
    #: The From header: ``"Name <address>"`` or an address.
    sender: str = "Rencontres <noreply@localhost>"
    timeout: float = 30.0
    #: SMTP connections used at once: a batch is shared between them.
    connections: int = 4

    def __post_init__(self) -> None:
        sender_address(self.sender)  # refuse a broken MAIL_FROM before sending anything


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    #: Rows claimed by another sender meanwhile (not ours to record).
    lost: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.retried + self.failed + self.lost

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.lost += other.lost
        self.errors += other.errors


class _Permanent(Exception):
    """This message can never be sent as it is."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]


def _is_permanent(error: BaseException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    # The message needs SMTPUTF8 the server lacks, or cannot be encoded: no retry helps.
    return isinstance(error, smtplib.SMTPNotSupportedError | UnicodeError | ValueError)


class MailSender:
    """Sends due outbox rows through one SMTP server, over a few connections at once."""

    def __init__(
        self,
        db: Database,
        config: SmtpConfig,
        *,
        batch_size: int | None = None,
        claim_for: timedelta = CLAIM_FOR,
        connect: Callable[[SmtpConfig], smtplib.SMTP] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.connections = max(config.connections, 1)
        self.batch_size = batch_size or BATCH_PER_CONNECTION * self.connections
        self.claim_for = claim_for
        self._connect_with = connect or connect_smtp

    # -- one pass ---------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> SendReport:
        """Claim one batch of due rows and send them over up to ``connections`` SMTP
        connections at once; returns what happened."""
        now = now or utcnow()
        claim, mails = self.claim(now)
        report = SendReport()
        if not mails:
            return report
        waiting = deque(mails)
        lock = threading.Lock()
        threads = min(self.connections, len(mails))
        with ThreadPoolExecutor(threads, thread_name_prefix="rencontres-smtp") as pool:
            sending = [
                pool.submit(self._send_from, waiting, lock, claim, now, report)
                for _ in range(threads)
            ]
            unreachable = [done.result() for done in sending]  # database errors go up
        # Left only if no connection could be opened (or the last one failed after the
        # others were done): retried later, like any mail the server did not take.
        error = next((e for e in unreachable if e is not None), None)
        for unsent in waiting:
            assert error is not None
            self._failed(unsent, claim, error, now, report, lock, permanent=False)
        return report

    def _send_from(
        self,
        waiting: deque[Mail],
        lock: threading.Lock,
        claim: datetime,
        now: datetime,
        report: SendReport,
    ) -> Exception | None:
        """One connection's share: take the batch's next mail until none is left. If no
        connection can be opened, put the mail back for the other connections and return
        why."""
        smtp: smtplib.SMTP | None = None
        try:
            while True:
                with lock:
                    if not waiting:
                        return None
                    mail = waiting.popleft()
                if smtp is None:
                    try:
                        smtp = self._connect_with(self.config)
                    except Exception as error:
                        with lock:
                            waiting.appendleft(mail)
                        return error
                try:
                    message = build_message(mail, sender=self.config.sender, date=now)
                    smtp.send_message(message, to_addrs=[mail.to_address])
                except Exception as error:  # every failure is recorded on its row
                    if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
                        _close(smtp)
                        smtp = None  # reconnect for the next message
                    self._failed(mail, claim, error, now, report, lock)
                    continue
                self._sent(mail, claim, now, report, lock)
        finally:
            _close(smtp)

    def run_until_idle(self, now: datetime | None = None, *, max_batches: int = 50) -> SendReport:
        """Send batch after batch while full batches come back (a burst after an outage)."""
        total = SendReport()
        for _ in range(max_batches):
            report = self.run_once(now)
            total.add(report)
            if report.claimed < self.batch_size or report.retried:
                break
        return total

    # -- the database side ----------------------------------------------------------------
    def claim(self, now: datetime) -> tuple[datetime, list[Mail]]:
        """Claim up to ``batch_size`` due rows; the claim's expiry identifies it."""
        until = now + self.claim_for
        due = (
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.render_spec.is_(None),  # rendered (events/mail/prepare.py)
            OutboxMessage.next_attempt_at <= now,
        )
        order = (TRANSACTIONAL_FIRST, OutboxMessage.next_attempt_at, OutboxMessage.id)
        claimed = claim_rows(self.db, due, order, limit=self.batch_size, now=now, until=until)
        if not claimed:
            return until, []
        with self.db.session() as session:
            rows = session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.to_address,
                    OutboxMessage.subject,
                    OutboxMessage.text_body,
                    OutboxMessage.html_body,
                    OutboxMessage.attachments,
                )
                .where(OutboxMessage.id.in_(claimed))
                .order_by(*order)
            ).all()
        return until, [Mail(*row) for row in rows]

    def _sent(
        self, mail: Mail, claim: datetime, now: datetime, report: SendReport, lock: threading.Lock
    ) -> None:
        with self.db.queued_transaction() as session:
            done = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mail.id, OutboxMessage.claimed_until == claim)
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=now,
                    attempts=OutboxMessage.attempts + 1,
                    claimed_until=None,
                    last_error="",
                )
                .execution_options(synchronize_session=False)
            )
        with lock:
            if done.rowcount == 1:  # type: ignore[attr-defined]
                report.sent += 1
                return
            report.lost += 1
        log.warning("mail %s was sent after its claim expired", mail.id)

    def _failed(
        self,
        mail: Mail,
        claim: datetime,
        error: BaseException,
        now: datetime,
        report: SendReport,
        lock: threading.Lock,
        *,
        permanent: bool | None = None,
    ) -> None:
        description = _describe(error)
        if permanent is None:
            permanent = _is_permanent(error)
        with self.db.queued_transaction() as session:
            attempts = session.scalar(
                select(OutboxMessage.attempts).where(
                    OutboxMessage.id == mail.id, OutboxMessage.claimed_until == claim
                )
            )
            if attempts is None:
                with lock:
                    report.lost += 1
                return
            attempts += 1
            give_up = permanent or attempts >= MAX_ATTEMPTS
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mail.id, OutboxMessage.claimed_until == claim)
                .values(
                    status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
                    attempts=attempts,
                    next_attempt_at=now if give_up else now + retry_delay(attempts),
                    claimed_until=None,
                    last_error=description,
                )
                .execution_options(synchronize_session=False)
            )
        with lock:
            report.errors.append(description)
            if give_up:
                report.failed += 1
            else:
                report.retried += 1
        if give_up:
            log.error("mail %s failed after %s attempt(s): %s", mail.id, attempts, description)
        else:
            log.warning("mail %s not sent (attempt %s): %s", mail.id, attempts, description)


def connect_smtp(config: SmtpConfig) -> smtplib.SMTP:
    """An authenticated SMTP connection as ``config`` says (TLS verified by default)."""
    if config.security == "tls":
        context = ssl.create_default_context()
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        # Anything but an explicit "none" upgrades the connection: a typo never sends
        # passwords and mails in clear.
        if config.security != "none":
            smtp.starttls(context=ssl.create_default_context())
    if config.username:
        smtp.login(config.username, config.password)
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
