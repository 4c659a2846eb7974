"""Real servers on loopback for the domain tests: an SMTP sink (aiosmtpd) and an S3 endpoint (moto)."""

from __future__ import annotations

import datetime
import email
import ipaddress
import ssl
import threading
from collections import Counter, deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pipeline.job import Job
from pipeline.queue import Queue
from tests.support import free_port, wait_for


@dataclass
class Received:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


class MailSink:
    """An aiosmtpd handler that keeps what it accepts and answers scripted failures.

    ``defer(address, n)`` answers the next ``n`` deliveries to ``address`` with a
    451; ``reject(address)`` answers every delivery with a 550; both happen at
    DATA, where real servers often decide.  ``refuse_recipient`` refuses at RCPT.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._scripted: dict[str, deque[str]] = {}
        self._rejected: dict[str, str] = {}
        self._refused: set[str] = set()

    def defer(self, address: str, times: int, reply: str = "451 4.3.0 Try again later") -> None:
        with self._lock:
            self._scripted.setdefault(address, deque()).extend([reply] * times)

    def reject(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        with self._lock:
            self._rejected[address] = reply

    def refuse_recipient(self, address: str) -> None:
        with self._lock:
            self._refused.add(address)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self._refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0]
        with self._lock:
            self.attempts[rcpt] += 1
            if rcpt in self._rejected:
                return self._rejected[rcpt]
            scripted = self._scripted.get(rcpt)
            if scripted:
                return scripted.popleft()
            message = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(message, EmailMessage)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def wait_for_count(self, n: int, timeout: float = 20.0) -> list[Received]:
        wait_for(lambda: self.count() >= n, timeout, message=f"{n} messages to arrive (have {self.count()})")
        with self._lock:
            return list(self.received)


class SmtpServer:
    """An aiosmtpd controller on a free loopback port."""

    def __init__(self, sink: MailSink | None = None, **smtp_options: Any) -> None:
        self.sink = sink or MailSink()
        self.host = "127.0.0.1"
        self.port = free_port()
        self.controller = Controller(self.sink, hostname=self.host, port=self.port, **smtp_options)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def env(self) -> dict[str, str]:
        return {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port)}


def accept_login(user: str, password: str) -> Any:
    """An aiosmtpd authenticator that accepts exactly one user and password."""

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticator


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, written to ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def client_tls_context(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


class S3Server:
    """moto in server mode on a free loopback port: a real HTTP S3 endpoint for boto3."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def env(self, bucket: str) -> dict[str, str]:
        """The environment that points the project's storage at this server and ``bucket``."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_REGION": "us-east-1",
            **AWS_TEST_CREDENTIALS,
        }


#: moto accepts any credentials; these keep boto3 from looking for real ones.
AWS_TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def existing(queue: Queue, job_id: str) -> Job:
    """The job ``job_id`` of ``queue``, which the test expects to exist."""
    job = queue.get_job(job_id)
    assert job is not None, f"job {job_id} of {queue.name} is gone"
    return job
