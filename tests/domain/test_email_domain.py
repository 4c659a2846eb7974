"""Email without a queue: validation, rendering, and delivery to a real SMTP server."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from actors.email.addresses import validate_address, validate_header
from actors.email.mailer import Mailer, SmtpConfig
from actors.email.rendering import RenderedEmail, render_campaign, render_email
from actors.errors import InvalidAddressError, PermanentMailError, TemporaryMailError
from pipeline.errors import UnrecoverableError
from tests.domain.servers import (
    SmtpServer,
    accept_login,
    client_tls_context,
    self_signed_certificate,
    server_tls_context,
)
from tests.support import free_port


def mailer_for(server: SmtpServer) -> Mailer:
    return Mailer(SmtpConfig(host=server.host, port=server.port, timeout_s=5, mail_from="app@example.com"))


def welcome(name: str = "Ada") -> RenderedEmail:
    return render_email("welcome", "Welcome!", {"user_id": 7, "name": name})


@pytest.mark.parametrize(
    "address", ["ada@example.com", "first.last+tag@mail.example.co.uk", "o'brien@example.org"]
)
def test_plain_addresses_are_accepted_unchanged(address: str) -> None:
    assert validate_address(address) == address


def test_an_internationalised_domain_is_returned_in_its_ascii_form() -> None:
    assert validate_address("ada@bücher.example") == "ada@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("victim@example.com\r\nBcc: all@example.com", "line break"),
        ("victim@example.com\nBcc: all@example.com", "line break"),
        ("victim@example.com\rX-Injected: 1", "line break"),
        ("a@example.com\x00", "control character"),
        ("a@example.com, b@example.com", "not allowed"),
        ("Ada <ada@example.com>", "not allowed"),
        ("no-at-sign", "name@example.com"),
        ("ada@localhost", "host name"),
        ("ada@-bad-.example", "host name"),
        ("", "name@example.com"),
    ],
)
def test_malformed_or_injecting_addresses_are_rejected_with_the_reason(address: str, reason: str) -> None:
    with pytest.raises(InvalidAddressError, match=reason) as caught:
        validate_address(address, "recipient")
    assert caught.value.field == "recipient"
    assert isinstance(caught.value, UnrecoverableError)


def test_a_non_string_address_is_rejected() -> None:
    with pytest.raises(InvalidAddressError, match="must be a string"):
        validate_address(["a@example.com"])


def test_a_subject_with_a_line_break_is_rejected() -> None:
    with pytest.raises(InvalidAddressError, match=r"subject.*line break"):
        validate_header("Hello\r\nBcc: all@example.com", "subject")


def test_the_html_part_escapes_user_values_and_the_text_part_keeps_them() -> None:
    rendered = render_email("welcome", "Welcome!", {"user_id": 1, "name": "<script>x()</script>"})
    assert "&lt;script&gt;x()&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert "Welcome, <script>x()</script>!" in rendered.text


def test_a_template_variable_left_out_raises_instead_of_rendering_a_gap() -> None:
    with pytest.raises(UndefinedError):
        render_email("password-reset", "Password Reset", {})


def test_template_names_cannot_reach_outside_the_template_folder() -> None:
    with pytest.raises(ValueError, match="invalid template name"):
        render_email("../addresses", "x", {})


def test_campaign_bodies_render_in_a_sandbox() -> None:
    rendered = render_campaign("Hi {{ name }}", "<p>{{ name }}</p>", "{{ name }}", {"name": "<b>Bo</b>"})
    assert rendered.subject == "Hi <b>Bo</b>" and rendered.html == "<p>&lt;b&gt;Bo&lt;/b&gt;</p>"
    with pytest.raises(SecurityError):
        render_campaign("x", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "", {})


def test_a_rendered_subject_with_a_line_break_is_rejected() -> None:
    with pytest.raises(InvalidAddressError, match="line break"):
        render_campaign("{{ name }}", "", "", {"name": "x\r\nBcc: all@example.com"})


def test_the_mailer_delivers_subject_text_and_html_parts(smtp_server: SmtpServer) -> None:
    message_id = mailer_for(smtp_server).send_rendered("ada@example.com", welcome())

    [received] = smtp_server.sink.wait_for_count(1)
    assert received.rcpt_tos == ["ada@example.com"] and received.mail_from == "app@example.com"
    assert received.subject == "Welcome!"
    assert received.message["Message-ID"] == message_id
    assert received.message.get_content_type() == "multipart/alternative"
    assert "Welcome, Ada!" in received.part("plain")
    assert "<h1>Welcome, Ada!</h1>" in received.part("html")


def test_header_injection_in_the_recipient_sends_nothing(smtp_server: SmtpServer) -> None:
    with pytest.raises(InvalidAddressError, match=r"recipient.*line break"):
        mailer_for(smtp_server).send_rendered(
            "ada@example.com\r\nBcc: everyone@example.com",
            welcome(),
        )
    assert smtp_server.sink.count() == 0 and not smtp_server.sink.attempts


def test_a_451_reply_is_a_temporary_failure(smtp_server: SmtpServer) -> None:
    smtp_server.sink.defer("ada@example.com", 1)
    mailer = mailer_for(smtp_server)

    with pytest.raises(TemporaryMailError) as caught:
        mailer.send_rendered("ada@example.com", welcome())
    assert caught.value.code == 451 and not isinstance(caught.value, UnrecoverableError)

    mailer.send_rendered("ada@example.com", welcome())
    assert len(smtp_server.sink.to("ada@example.com")) == 1


def test_a_550_reply_is_a_permanent_failure(smtp_server: SmtpServer) -> None:
    smtp_server.sink.reject("gone@example.com")
    with pytest.raises(PermanentMailError) as caught:
        mailer_for(smtp_server).send_rendered("gone@example.com", welcome())
    assert caught.value.code == 550 and isinstance(caught.value, UnrecoverableError)


def test_a_recipient_refused_at_rcpt_is_a_permanent_failure(smtp_server: SmtpServer) -> None:
    smtp_server.sink.refuse_recipient("nobody@example.com")
    with pytest.raises(PermanentMailError, match="recipient refused"):
        mailer_for(smtp_server).send_rendered("nobody@example.com", welcome())


def test_a_refused_connection_is_a_temporary_failure() -> None:
    mailer = Mailer(SmtpConfig(host="127.0.0.1", port=free_port(), timeout_s=2))
    with pytest.raises(TemporaryMailError, match="ConnectionRefusedError"):
        mailer.send_rendered("ada@example.com", welcome())


def test_starttls_then_login_delivers_over_an_encrypted_session(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server = SmtpServer(
        tls_context=server_tls_context(cert, key),
        require_starttls=True,
        authenticator=accept_login("mailer", "s3cret"),
        auth_require_tls=True,
    ).start()
    try:
        config = SmtpConfig(
            host=server.host, port=server.port, user="mailer", password="s3cret", starttls=True, timeout_s=5
        )
        Mailer(config, ssl_context=lambda: client_tls_context(cert)).send_rendered(
            "ada@example.com",
            welcome(),
        )
        assert len(server.sink.wait_for_count(1)) == 1

        wrong = dataclasses.replace(config, password="wrong")
        with pytest.raises(PermanentMailError) as caught:
            Mailer(wrong, ssl_context=lambda: client_tls_context(cert)).send_rendered(
                "ada@example.com",
                welcome(),
            )
        assert caught.value.code == 535
    finally:
        server.stop()


def test_implicit_tls_delivers_from_the_first_byte(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server = SmtpServer(ssl_context=server_tls_context(cert, key)).start()
    try:
        config = SmtpConfig(host=server.host, port=server.port, tls=True, timeout_s=5)
        Mailer(config, ssl_context=lambda: client_tls_context(cert)).send_rendered(
            "ada@example.com",
            welcome(),
        )
        assert len(server.sink.wait_for_count(1)) == 1
    finally:
        server.stop()
