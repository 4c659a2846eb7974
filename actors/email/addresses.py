"""Address and header validation.

Job data comes from outside (sign-up forms, APIs).  A value carrying CR or LF
into a header would let its author add recipients or headers of their own, so
every address and header value is checked here, before any message is built,
and rejected with an error that says which field and why.
"""

from __future__ import annotations

import re

from actors.errors import InvalidAddressError

#: RFC 5321: at most 254 characters in a forward path.
MAX_ADDRESS_LENGTH = 254
#: RFC 5322's hard line limit; no single header value may exceed it.
MAX_HEADER_LENGTH = 998

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*\Z")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _reject_control(field: str, value: str) -> None:
    match = _CONTROL.search(value)
    if match is None:
        return
    char = match.group()
    if char in "\r\n":
        raise InvalidAddressError(field, value, "contains a line break (header injection attempt)")
    raise InvalidAddressError(field, value, f"contains control character {char!r}")


def validate_address(value: object, field: str = "address") -> str:
    """Return ``value`` as a single, plain ``local@domain`` address, or raise :class:`InvalidAddressError`.

    Display names, lists and comments are refused: job data carries one bare
    address, and the sender decides how it is shown.  Internationalised domains
    are accepted and returned in their ASCII (IDNA) form.
    """
    if not isinstance(value, str):
        raise InvalidAddressError(field, repr(value), "must be a string")
    _reject_control(field, value)
    if len(value) > MAX_ADDRESS_LENGTH:
        raise InvalidAddressError(field, value, f"longer than {MAX_ADDRESS_LENGTH} characters")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddressError(field, value, "must look like name@example.com")
    if not _LOCAL.match(local):
        raise InvalidAddressError(field, value, "the part before '@' has characters not allowed there")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidAddressError(field, value, "the domain is not a valid host name") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidAddressError(field, value, "the domain is not a valid host name")
    return f"{local}@{ascii_domain}"


def validate_header(value: object, field: str = "header") -> str:
    """Return ``value`` if it is safe as a header value (one line, bounded), else raise."""
    if not isinstance(value, str):
        raise InvalidAddressError(field, repr(value), "must be a string")
    _reject_control(field, value.replace("\t", " "))
    if len(value) > MAX_HEADER_LENGTH:
        raise InvalidAddressError(field, value[:40] + "...", f"longer than {MAX_HEADER_LENGTH} characters")
    return value
