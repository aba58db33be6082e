"""E-mail through an outbox: queue, render, send (below the services, which call it).

Every mail is written to ``outbox_message`` in the same transaction as the change that
causes it (:mod:`events.mail.notify`, called by the domain services), rendered shortly
after (:mod:`events.mail.prepare`) and sent over SMTP with retries and backoff
(:mod:`events.mail.sender`). A rolled-back change therefore sends nothing, and an
acknowledged one cannot lose its mail to a crash or an SMTP outage. The loop that drives
rendering and sending, and the periodic jobs (reminders among them), live in
:mod:`events.jobs`, above the services: this package never imports them.

Modules (import them directly; this package imports nothing):

- ``settings``: :class:`MailSettings` (the base URL of links), passed to the renderer;
- ``i18n``: the registrant's language (the web app's gettext catalogues, read directly);
- ``render``: the Jinja templates of ``events/mail/templates`` (text and HTML);
- ``notify``: what the services call to queue a mail;
- ``prepare``: renders the queued mails;
- ``message``: an outbox row as an :class:`email.message.EmailMessage`;
- ``sender``: claims due rows and sends them over SMTP;
- ``outbox``: the organiser's view of a community's outbox, claims, retention.
"""
