"""Background work: the loop that renders and sends the outbox, and the periodic jobs.

This package sits *above* the domain services and calls them; nothing below it (the
services, :mod:`events.mail`, the models) imports it, so the import graph of ``events``
has no cycle (tests/test_import_rules.py):

- :mod:`events.mail` queues, renders and sends mail (low level: the services call it);
- :mod:`events.services` holds the rules and queues mail through :mod:`events.mail`;
- :mod:`events.jobs` runs things on a schedule: ``periodic`` (the job list: hold
  expiry, reminders, outbox and rate-limit purges, anonymisation, series horizons,
  calendar imports),
  ``reminders`` (which reminders are due) and ``worker`` (the loop, in each server
  process or in ``rencontres worker``).

Every setting a job needs is passed to it explicitly (:class:`events.jobs.periodic.JobSettings`,
:class:`events.mail.settings.MailSettings`, :class:`events.mail.sender.SmtpConfig`).
"""
