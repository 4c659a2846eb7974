"""Sending mail over SMTP, and sorting its failures into temporary and permanent.

The sorting is what makes retries useful: a 4xx reply, a refused or dropped
connection or a timeout may pass, so it raises :class:`TemporaryMailError` and
the job tries again; a 5xx reply will not change, so it raises
:class:`PermanentMailError`, an ``UnrecoverableError`` that fails the job at
once instead of burning its remaining attempts.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from actors.email.addresses import validate_address, validate_header
from actors.email.rendering import RenderedEmail
from actors.errors import PermanentMailError, TemporaryMailError
from actors.settings import DomainSettings


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send.

    Attributes:
        host, port: the SMTP server.
        user, password: credentials for AUTH; no login when ``user`` is empty.
        starttls: upgrade a plain connection with STARTTLS before logging in.
        tls: connect with TLS from the first byte (SMTPS, usually port 465).
        timeout_s: socket timeout for every SMTP command.
        mail_from: the envelope and ``From`` address.
    """

    # The defaults are the domain settings' (``SMTP_*``, ``MAIL_FROM``), written once there.
    host: str = DomainSettings.smtp_host
    port: int = DomainSettings.smtp_port
    user: str = DomainSettings.smtp_user
    password: str = DomainSettings.smtp_password
    starttls: bool = DomainSettings.smtp_starttls
    tls: bool = DomainSettings.smtp_tls
    timeout_s: float = float(DomainSettings.smtp_timeout_s)
    mail_from: str = DomainSettings.mail_from

    @classmethod
    def from_settings(cls, settings: DomainSettings) -> SmtpConfig:
        """The SMTP part of the domain's settings (``SMTP_*`` and ``MAIL_FROM``)."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            timeout_s=float(settings.smtp_timeout_s),
            mail_from=settings.mail_from,
        )


def build_message(
    *,
    sender: str,
    to: str,
    content: RenderedEmail,
    headers: Mapping[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A ``multipart/alternative`` message: the text part first, the HTML part preferred.

    Every address and extra header is validated first, so a value carrying a
    line break is refused with :class:`InvalidAddressError` and nothing is built.
    """
    message = EmailMessage()
    message["From"] = validate_address(sender, "sender")
    message["To"] = validate_address(to, "recipient")
    message["Subject"] = validate_header(content.subject, "subject")
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = validate_header(message_id, "Message-ID") if message_id else make_msgid()
    for name, value in (headers or {}).items():
        message[validate_header(name, "header name")] = validate_header(value, f"header {name}")
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


def classify(exc: BaseException) -> TemporaryMailError | PermanentMailError:
    """The domain error for an SMTP or socket failure (see the module docstring)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        code, text = replies[0] if replies else (0, b"")
        detail = _text(text)
        if any(c >= 500 for c, _ in replies):
            return PermanentMailError(f"recipient refused: {detail}", code=code)
        return TemporaryMailError(f"recipient deferred: {detail}", code=code)
    if isinstance(exc, smtplib.SMTPResponseException):
        code, detail = exc.smtp_code, _text(exc.smtp_error)
        if 500 <= code < 600:
            return PermanentMailError(detail, code=code)
        return TemporaryMailError(detail, code=code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks STARTTLS or AUTH: a configuration mismatch that no retry fixes.
        return PermanentMailError(str(exc))
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return TemporaryMailError(f"{type(exc).__name__}: {exc}")
    return TemporaryMailError(f"{type(exc).__name__}: {exc}")


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


class Mailer:
    """Sends messages through the configured SMTP server.

    Each send opens its own connection: a worker thread keeps no SMTP session
    open between jobs, which servers would time out anyway, and nothing
    connects until the first message is sent.
    """

    def __init__(
        self,
        config: SmtpConfig,
        *,
        ssl_context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
    ) -> None:
        self.config = config
        self._ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: DomainSettings) -> Mailer:
        return cls(SmtpConfig.from_settings(settings))

    def send(self, message: EmailMessage) -> str:
        """Deliver ``message``; return its Message-ID.

        Raises :class:`TemporaryMailError` or :class:`PermanentMailError`.
        """
        try:
            with self._connect() as smtp:
                if self.config.starttls and not self.config.tls:
                    smtp.starttls(context=self._ssl_context())
                if self.config.user:
                    smtp.login(self.config.user, self.config.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        return str(message["Message-ID"])

    def send_rendered(
        self,
        to: str,
        content: RenderedEmail,
        *,
        headers: Mapping[str, str] | None = None,
        message_id: str | None = None,
    ) -> str:
        """Build a message from ``content`` for ``to`` and send it; return its Message-ID."""
        message = build_message(
            sender=self.config.mail_from, to=to, content=content, headers=headers, message_id=message_id
        )
        return self.send(message)

    def _connect(self) -> smtplib.SMTP:
        host, port, timeout = self.config.host, self.config.port, self.config.timeout_s
        if self.config.tls:
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._ssl_context())
        return smtplib.SMTP(host, port, timeout=timeout)
