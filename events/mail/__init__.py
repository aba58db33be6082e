"""E-mail through an outbox.

Every mail is rendered and written to ``outbox_message`` in the same transaction as the
change that causes it (:mod:`events.mail.notify`, called by the domain services), then
sent by a background sender over SMTP with retries and backoff (:mod:`events.mail.sender`,
driven by :mod:`events.mail.worker`). A rolled-back change therefore sends nothing, and an
acknowledged one cannot lose its mail to a crash or an SMTP outage.

Modules (import them directly; this package imports nothing so that
``events.database`` can use :mod:`events.mail.settings` without import cycles):

- ``settings``: :class:`MailSettings` (base URL, reminder lead time), found on the session;
- ``i18n``: the registrant's language (the web app's gettext catalogues, read directly);
- ``render``: the Jinja templates of ``events/mail/templates`` (text and HTML);
- ``notify``: what the services call to queue a mail, and the reminder scheduler;
- ``message``: an outbox row as an :class:`email.message.EmailMessage`;
- ``sender``: claims due rows and sends them over SMTP;
- ``outbox``: the organiser's view of a community's outbox;
- ``worker``: the loop that runs the sender and the periodic jobs.
"""
