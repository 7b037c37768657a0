"""E-mail through SMTP (the standard library's smtplib), for password-reset links.

Configured by ``SMTP_HOST`` (empty: no e-mail; an administrator hands out links with the admin
CLI instead), ``SMTP_PORT``, ``SMTP_SECURITY`` (starttls, ssl or none), ``SMTP_USERNAME`` /
``SMTP_PASSWORD`` (no login when empty) and ``SMTP_FROM``. A message is sent from a background
thread, so how long a reset request takes does not tell whether the address has an account.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage

from chatlens.auth.config import AuthSettings

log = logging.getLogger(__name__)
TIMEOUT_S = 15


def configured(settings: AuthSettings) -> bool:
    return bool(settings.smtp_host)


def send(settings: AuthSettings, to: str, subject: str, body: str) -> None:
    """Send one plain-text message now; raises what smtplib raises."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def send_later(settings: AuthSettings, to: str, subject: str, body: str) -> threading.Thread:
    """Send from a daemon thread; a failure is logged (the request has long been answered)."""

    def run() -> None:
        try:
            send(settings, to, subject, body)
        except (OSError, smtplib.SMTPException):
            log.exception("the reset e-mail could not be sent")

    thread = threading.Thread(target=run, name="mailer", daemon=True)
    thread.start()
    return thread
